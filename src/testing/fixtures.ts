/**
 * The people, teams and clients that tests start from, seeded straight
 * through the domain (the portal and CLI paths that create them have tests
 * of their own).
 */
import { addMember } from '../accounts/teams.js'
import type { Role, Team, User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient, type NewClient } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import type { Keys } from '../crypto/master-key.js'
import type { Db } from '../db/connection.js'

/** The password of every seeded user. */
export const PASSWORD = 'correct horse battery'

/** The redirect URI seeded clients register unless told otherwise. */
export const REDIRECT = 'https://app.example/callback'

export interface SeededUser {
  user: User
  /** The team named in `seedUser`'s options, if any. */
  team: Team | undefined
}

export interface SeedUserOptions {
  /** Defaults to the part of the e-mail address before the @. */
  name?: string
  password?: string
  /** A team the user belongs to: created (with the user as its owner) when no team has this name. */
  team?: string
  /** The role in an existing team; a new team's first member is always its owner. */
  role?: Role
  now?: number
}

/** A verified user who logs in with PASSWORD. */
export async function seedUser(db: Db, email: string, options: SeedUserOptions = {}): Promise<SeededUser> {
  const now = options.now ?? Date.now()
  const input = { email, name: options.name ?? email.split('@')[0]!, password: options.password ?? PASSWORD }
  if (options.team === undefined || (options.role ?? 'owner') === 'owner') return createUser(db, { ...input, teamName: options.team }, now)
  const { user } = await createUser(db, input, now)
  const { team } = await addMember(db, options.team, email, options.role ?? 'member', now)
  return { user, team }
}

export interface SeededClient {
  client: Client
  id: string
  /** Empty for a public client, so it can be sent as a form field as it is. */
  secret: string
}

export type SeedClientOptions = Partial<Omit<NewClient, 'ownerUserId'>> & { now?: number }

let clientCount = 0

/**
 * A client registered by the user in their team (or the team given), by
 * default confidential, third-party, named "App n" and sent back to REDIRECT;
 * made as the command line makes it, so its back-channel URL may be internal.
 */
export async function seedClient(ctx: { db: Db; keys: Keys }, owner: SeededUser, options: SeedClientOptions = {}): Promise<SeededClient> {
  const { now, ...fields } = options
  const teamId = fields.teamId ?? owner.team?.id
  if (teamId === undefined) throw new Error(`${owner.user.email} has no team to register a client in`)
  clientCount += 1
  const { client, secret } = await registerClient(
    ctx.db,
    ctx.keys,
    { name: `App ${clientCount}`, redirectUris: [REDIRECT], byOperator: true, ...fields, ownerUserId: owner.user.id, teamId },
    now ?? Date.now(),
  )
  return { client, id: client.id, secret: secret ?? '' }
}
