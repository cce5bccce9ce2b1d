import type { Generated } from 'kysely'

// Times are epoch milliseconds in every table, so both dialects compare and
// sort them the same way; booleans are 0/1 integers for the same reason.

export interface UserTable {
  id: Generated<number>
  email: string
  email_normalized: string
  name: string
  password_hash: string
  is_verified: number
  is_disabled: number
  created_at: number
  updated_at: number
}

export interface TeamTable {
  id: Generated<number>
  name: string
  created_at: number
  updated_at: number
}

export interface MembershipTable {
  team_id: number
  user_id: number
  role: 'owner' | 'member'
  created_at: number
}

export interface SessionTable {
  id_hash: string
  user_id: number
  active_team_id: number | null
  created_at: number
  expires_at: number
}

export interface LoginFailureTable {
  key: string
  failures: number
  window_started_at: number
}

export interface Database {
  users: UserTable
  teams: TeamTable
  memberships: MembershipTable
  sessions: SessionTable
  login_failures: LoginFailureTable
}
