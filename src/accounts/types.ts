export type Role = 'owner' | 'member'

export interface User {
  id: number
  email: string
  name: string
  isVerified: boolean
  isDisabled: boolean
  /** The user a service client acts as: it has no password and never logs in. */
  isServiceAccount: boolean
  createdAt: Date
  updatedAt: Date
}

export interface Team {
  id: number
  name: string
  createdAt: Date
  updatedAt: Date
  /** Members must sign in with a second factor to work in the team. */
  requiresTwoFactor: boolean
}

export interface TeamMembership {
  team: Team
  role: Role
}
