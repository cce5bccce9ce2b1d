import type { Executor } from './executor.js'

export interface TrustedIssuer {
  id: number
  issuer: string
  jwksUri: string
  teamId: number
  createdAt: number
}

function toTrustedIssuer(row: { id: number; issuer: string; jwks_uri: string; team_id: number; created_at: number }): TrustedIssuer {
  return { id: Number(row.id), issuer: row.issuer, jwksUri: row.jwks_uri, teamId: Number(row.team_id), createdAt: Number(row.created_at) }
}

export async function insertTrustedIssuer(db: Executor, issuer: Omit<TrustedIssuer, 'id'>): Promise<TrustedIssuer> {
  const row = await db
    .insertInto('trusted_issuers')
    .values({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri, team_id: issuer.teamId, created_at: issuer.createdAt })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toTrustedIssuer(row)
}

export async function listTrustedIssuers(db: Executor, page: { teamId?: number; afterId?: number; limit?: number } = {}): Promise<TrustedIssuer[]> {
  let query = db.selectFrom('trusted_issuers').selectAll().orderBy('id')
  if (page.teamId !== undefined) query = query.where('team_id', '=', page.teamId)
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId)
  if (page.limit !== undefined) query = query.limit(page.limit)
  return (await query.execute()).map(toTrustedIssuer)
}

export async function findTrustedIssuerById(db: Executor, id: number): Promise<TrustedIssuer | undefined> {
  const row = await db.selectFrom('trusted_issuers').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toTrustedIssuer(row)
}

/** Every team that trusts `issuer`. */
export async function findTrustedIssuers(db: Executor, issuer: string): Promise<TrustedIssuer[]> {
  return (await db.selectFrom('trusted_issuers').selectAll().where('issuer', '=', issuer).orderBy('id').execute()).map(toTrustedIssuer)
}

export async function deleteTrustedIssuer(db: Executor, id: number): Promise<boolean> {
  const result = await db.deleteFrom('trusted_issuers').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}
