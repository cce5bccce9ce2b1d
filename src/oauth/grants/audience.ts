import type { Config } from '../../config.js'
import type { Db } from '../../db/connection.js'
import { resolveResources } from '../../resources/resources.js'
import { InvalidTarget } from '../../protocol/errors.js'
import { repeatedParam, type RawParams } from '../../protocol/params.js'

/**
 * RFC 8707 §2.2: a token request may name some of the granted resources,
 * never one beyond them; naming none means all of them. A resource deleted
 * since the grant gets no new token.
 */
export async function tokenAudience(ctx: { db: Db; config: Pick<Config, 'issuer'> }, granted: string[], params: RawParams): Promise<string[]> {
  const requested = [...new Set(repeatedParam(params, 'resource'))]
  for (const uri of requested) {
    if (!granted.includes(uri)) throw new InvalidTarget(`The resource "${uri}" was not granted to this application.`)
  }
  const audience = requested.length > 0 ? requested : granted
  await resolveResources(ctx.db, ctx.config.issuer, audience)
  return audience
}
