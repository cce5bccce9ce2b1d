import { randomUUID } from 'node:crypto'
import type { ActivityLog } from '../../activity/recorder.js'
import { formatAmr } from '../../accounts/assurance.js'
import { rememberApproval } from '../../consent/remembered.js'
import { hashSecret, randomSecret } from '../../crypto/random.js'
import { insertAuthorizationCode } from '../../db/authorization-codes.js'
import type { Db } from '../../db/connection.js'
import { recordSessionClient } from '../../db/sessions.js'
import { formatResources } from '../../resources/resources.js'
import { NO_OPENID_LOGIN } from '../../tokens/types.js'
import { formatScopes, isOpenIdRequest } from '../../protocol/scopes.js'
import type { AuthorizationRequest } from './request.js'

export interface ApprovalDeps {
  db: Db
  activity: ActivityLog
  clock: () => number
}

const AUTHORIZATION_CODE_TTL_MS = 10 * 60 * 1000

/** Who approves: the user, the team the tokens act in, and the session they signed in with. */
export interface Approver {
  userId: number
  teamId: number
  sid: string
  /** Epoch ms of the session's login. */
  authenticatedAt: number
  /** RFC 8176 methods of that login. */
  amr: string[]
  /** When the session ends, the record of the clients it signed in to may go. */
  sessionExpiresAt: number
  /** Where the approval came from, for the team's activity log. */
  address: string
  /** The user approved on the consent page (rather than by an approval on file or a client that skips the page). */
  onConsentPage: boolean
}

/** Records the approval and issues a single-use code bound to everything the token will carry. */
export async function approve(deps: ApprovalDeps, request: AuthorizationRequest, approver: Approver): Promise<string> {
  const { userId, teamId } = approver
  const now = deps.clock()
  const code = randomSecret(32)
  const openid = isOpenIdRequest(request.scopes)
  await deps.db.kysely.transaction().execute(async (trx) => {
    // Writing first takes SQLite's write lock before anything is read: a
    // transaction that reads first cannot upgrade while another process
    // writes and fails at once (SQLITE_BUSY) instead of waiting its turn.
    await insertAuthorizationCode(trx, {
      codeHash: hashSecret(code),
      clientId: request.client.id,
      userId,
      teamId,
      redirectUri: request.redirectUri,
      scopes: formatScopes(request.scopes),
      codeChallenge: request.codeChallenge ?? null,
      resources: formatResources(request.resources.map((r) => r.uri)),
      grantId: randomUUID(),
      createdAt: now,
      expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
      // The login time and methods go into every token of the grant (RFC 9068 §2.2.1); nonce and sid only with an ID token.
      login: {
        ...NO_OPENID_LOGIN,
        ...(openid && { nonce: request.nonce ?? null, sid: approver.sid }),
        authTime: approver.authenticatedAt,
        amr: formatAmr(approver.amr),
      },
    })
    await rememberApproval(trx, request, { userId, teamId }, approver.onConsentPage, now)
    // Back-channel logout 1.0 §2.7: the clients this session signed in to hear when it ends.
    if (openid) await recordSessionClient(trx, approver.sid, request.client.id, userId, now, approver.sessionExpiresAt)
  })
  deps.activity.record({ action: 'app.authorised', teamId, userId, clientId: request.client.id, detail: request.client.name, address: approver.address })
  return code
}
