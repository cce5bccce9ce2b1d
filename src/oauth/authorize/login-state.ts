import type { Config } from '../../config.js'
import { consentOnFile } from '../../consent/remembered.js'
import type { Db } from '../../db/connection.js'
import type { KeyRing } from '../../keys/signing-keys.js'
import { readIdTokenHint } from '../../oidc/id-token.js'
import type { RawParams } from '../../protocol/params.js'
import type { LoginState, SignedIn } from './decision.js'
import { loginRequestedAt, type LoginMarkDeps } from './login-requested.js'
import type { AuthorizationRequest } from './request.js'

export interface LoginStateDeps extends LoginMarkDeps {
  db: Db
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
}

/** What the decision on a request is taken on, reading only what the request's answer can depend on. */
export async function loginStateOf(
  deps: LoginStateDeps,
  request: AuthorizationRequest,
  params: RawParams,
  signedIn: SignedIn | undefined,
): Promise<LoginState> {
  const hint =
    request.noPrompt && signedIn && request.idTokenHint !== undefined ? await readIdTokenHint(deps.keyRing, deps.config.issuer, request.idTokenHint) : undefined
  const onFile = signedIn?.teamId === undefined ? undefined : await consentOnFile(deps.db.kysely, request, { userId: signedIn.userId, teamId: signedIn.teamId })
  return {
    signedIn,
    loginRequestedAt: loginRequestedAt(deps, request.client.id, params),
    hintedUserId: hint?.userId,
    consentOnFile: onFile,
    now: deps.clock(),
  }
}
