import type { User } from '../accounts/types.js'
import type { AccessTokenClaims, Actor } from './types.js'

interface Holder {
  user: User
  teamId: number
  /** The access token's jti or the personal access token's id: what API usage is counted under. */
  tokenId: string
  /** Empty means all of the user's permissions in the team, as a token issued without scopes has. */
  scopes: string[]
  /** RFC 8707: the resources an OAuth token is for; empty when it is for its client, as every token used to be. */
  resources: string[]
  /** RFC 8693 §4.1: on an exchanged token, who acts for the user. */
  act?: Actor
}

/** Who an API request acts as: the token's user, within the token's team. */
export type Principal = Holder &
  (
    | {
        kind: 'oauth'
        /** The OAuth client the token was issued to. */
        clientId: string
        personalAccessTokenId: null
        /** The access token's verified claims: when it was issued and expires, how its user signed in. */
        claims: AccessTokenClaims
      }
    | { kind: 'personal_access_token'; clientId: null; personalAccessTokenId: string }
  )
