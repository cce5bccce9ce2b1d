/*
 * RFC 8628, from the device's request to its tokens:
 *
 *   POST /oauth/device_authorization ──▶ pending (device code, user code, 600 s)
 *        │
 *   user opens /device, enters the user code (throttled per address), logs in
 *        ▼
 *   "Is this the code on your device?" ──approve──▶ approved (user, team, consent recorded)
 *        │                               └─deny────▶ denied
 *        ▼
 *   device polls the token endpoint every `interval` seconds:
 *     pending ──▶ authorization_pending     too soon ──▶ slow_down (interval + 5 s)
 *     denied  ──▶ access_denied             expired  ──▶ expired_token
 *     approved ──▶ tokens, once; the device code presented again ──▶ invalid_grant
 */
export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied'

export interface DeviceAuthorization {
  deviceCodeHash: string
  clientId: string
  /** Space-separated, as stored. */
  scopes: string
  /** RFC 8707 resource URIs, space-separated; empty: the client itself. */
  resources: string
  status: DeviceAuthorizationStatus
  userId: number | null
  teamId: number | null
  grantId: string
  /** When the approving user entered their password, epoch ms. */
  authTime: number | null
  /** RFC 8176 methods of the approving session's login, space-separated; null: the password alone. */
  amr: string | null
  expiresAt: number
  consumedAt: number | null
}
