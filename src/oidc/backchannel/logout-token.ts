import type { Config } from '../../config.js'
import { randomSecret } from '../../crypto/random.js'
import type { BackchannelTarget } from '../../db/sessions.js'
import { DEFAULT_ID_TOKEN_ALGORITHM } from '../../keys/algorithms.js'
import { signJwt } from '../../keys/sign-jwt.js'
import { LOGOUT_TOKEN_TTL_SECONDS, type KeyRing } from '../../keys/signing-keys.js'
import { inSpan } from '../../observability/tracing.js'

/** OpenID Connect Back-Channel Logout 1.0 §2.4. */
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
/** §2.4: the token's `typ`, so it can never pass for an ID token or an access token. */
export const LOGOUT_TOKEN_TYPE = 'logout+jwt'

export interface LogoutTokenDeps {
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
  clock: () => number
}

/**
 * §2.4: a logout token names the session and the user, carries the logout
 * event, and never a nonce. It is signed with the keys of ID tokens, in
 * RS256, which every relying party verifies (OpenID Connect Core §15.1).
 */
export async function signLogoutToken(deps: LogoutTokenDeps, target: Pick<BackchannelTarget, 'sid' | 'userId' | 'clientId'>): Promise<string> {
  const key = await deps.keyRing.signingKey(DEFAULT_ID_TOKEN_ALGORITHM)
  const now = Math.floor(deps.clock() / 1000)
  const claims = {
    iss: deps.config.issuer,
    aud: target.clientId,
    sub: String(target.userId),
    iat: now,
    exp: now + LOGOUT_TOKEN_TTL_SECONDS,
    jti: randomSecret(16),
    sid: target.sid,
    events: { [LOGOUT_EVENT]: {} },
  }
  return inSpan('sign logout_token', { 'gatehouse.signing.alg': key.alg }, () => signJwt(key, LOGOUT_TOKEN_TYPE, claims))
}
