import type { Team, User } from '../../accounts/types.js'
import type { Activity } from '../../activity/types.js'

// A user answered from the verified-token cache brings the same Date objects on every call: each is formatted once.
const formatted = new WeakMap<Date, string>()

/** ISO 8601 in UTC to the second, as the API has always answered: `2019-08-24T14:15:22Z`. */
export function timestamp(date: Date): string {
  let text = formatted.get(date)
  if (text === undefined) formatted.set(date, (text = `${date.toISOString().slice(0, 19)}Z`))
  return text
}

/** The `GET /api/v2/me` body, field for field as integrators rely on it. */
export function userObject(user: User) {
  return {
    object: 'user' as const,
    id: user.id,
    name: user.name,
    email: user.email,
    is_verified: user.isVerified,
    is_disabled: user.isDisabled,
    is_service_account: user.isServiceAccount,
    created_at: timestamp(user.createdAt),
    updated_at: timestamp(user.updatedAt),
  }
}

export function teamObject(team: Team) {
  return { object: 'team' as const, id: team.id, name: team.name, created_at: timestamp(team.createdAt) }
}

export function activityObject(activity: Activity) {
  return {
    object: 'activity' as const,
    id: activity.id,
    action: activity.action,
    user_id: activity.userId,
    client_id: activity.clientId,
    personal_access_token_id: activity.personalAccessTokenId,
    detail: activity.detail,
    ip_address: activity.address,
    created_at: timestamp(activity.createdAt),
  }
}
