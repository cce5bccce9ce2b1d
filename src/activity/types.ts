/** What the log records; names are stable, as the API returns them. */
export type ActivityAction =
  /** Written for every API call by earlier versions; such entries stay until retention prunes them. API calls are now counted as usage (usage.ts). */
  | 'api.request'
  | 'token.issued'
  | 'token.refreshed'
  | 'token.exchanged'
  | 'token.revoked'
  | 'refresh_token.replayed'
  | 'authorization_code.replayed'
  | 'device_code.replayed'
  | 'personal_access_token.created'
  | 'personal_access_token.deleted'
  | 'client.created'
  | 'client.updated'
  | 'client.secret_revealed'
  | 'client.secret_regenerated'
  | 'client.deleted'
  | 'client.skip_consent_enabled'
  | 'client.skip_consent_disabled'
  | 'client.token_exchange_enabled'
  | 'client.token_exchange_disabled'
  | 'client.redirect_uri_removed'
  | 'app.authorised'
  | 'app.revoked'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'mail.queued'
  | 'mail.failed'
  | 'password.reset_requested'
  | 'password.reset_completed'
  | 'password.changed'
  | 'email.change_requested'
  | 'email.change_completed'
  | 'email.verification_requested'
  | 'email.verified'
  | 'team.created'
  | 'member.invited'
  | 'invitation.accepted'
  | 'invitation.cancelled'
  | 'member.role_changed'
  | 'member.removed'
  | 'member.left'
  | 'account.signed_up'
  | 'admin.request'
  | 'login.second_factor_failed'
  | 'factor.added'
  | 'factor.removed'
  | 'factors.reset'
  | 'recovery_codes.generated'
  | 'team.two_factor_changed'
  | 'trusted_issuer.added'
  | 'trusted_issuer.deleted'
  | 'webhook.created'
  | 'webhook.updated'
  | 'webhook.deleted'
  | 'webhook.delivery_resent'

export interface ActivityEvent {
  action: ActivityAction
  teamId?: number | null
  userId?: number | null
  clientId?: string | null
  personalAccessTokenId?: string | null
  /** The admin token the action was taken with (admin API calls). */
  adminTokenId?: string | null
  /** Never a token or secret: a request line, a grant type, an app's name. */
  detail?: string | null
  address?: string | null
}

export interface Activity {
  id: number
  action: string
  teamId: number | null
  userId: number | null
  clientId: string | null
  personalAccessTokenId: string | null
  adminTokenId: string | null
  detail: string | null
  address: string | null
  createdAt: Date
}
