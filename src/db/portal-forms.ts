import { isUniqueViolation } from './errors.js'
import type { Executor } from './executor.js'

/** Records a form instance's first submission; false when it was already recorded. */
export async function insertFormSubmission(db: Executor, keyHash: string, now: number, expiresAt: number): Promise<boolean> {
  try {
    await db.insertInto('form_submissions').values({ key_hash: keyHash, location: null, created_at: now, expires_at: expiresAt }).execute()
    return true
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
}

export async function setFormSubmissionLocation(db: Executor, keyHash: string, location: string): Promise<void> {
  await db.updateTable('form_submissions').set({ location }).where('key_hash', '=', keyHash).execute()
}

/** The recorded submission: undefined when there is none, null location while it is in progress. */
export async function findFormSubmission(db: Executor, keyHash: string): Promise<{ location: string | null } | undefined> {
  return db.selectFrom('form_submissions').select('location').where('key_hash', '=', keyHash).executeTakeFirst()
}

export async function deleteFormSubmission(db: Executor, keyHash: string): Promise<void> {
  await db.deleteFrom('form_submissions').where('key_hash', '=', keyHash).execute()
}

export interface ShownOnceRow {
  idHash: string
  sessionHash: string
  subjectId: string
  secretEncrypted: string
  createdAt: number
  expiresAt: number
}

export async function insertShownOnce(db: Executor, row: ShownOnceRow): Promise<void> {
  await db
    .insertInto('shown_once')
    .values({
      id_hash: row.idHash,
      session_hash: row.sessionHash,
      subject_id: row.subjectId,
      secret_encrypted: row.secretEncrypted,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute()
}

/** Deletes the row and returns what it held, for exactly one caller, and only for its session before it expires. */
export async function takeShownOnce(
  db: Executor,
  idHash: string,
  sessionHash: string,
  now: number,
): Promise<{ subjectId: string; secretEncrypted: string } | undefined> {
  const row = await db
    .deleteFrom('shown_once')
    .where('id_hash', '=', idHash)
    .where('session_hash', '=', sessionHash)
    .where('expires_at', '>', now)
    .returning(['subject_id', 'secret_encrypted'])
    .executeTakeFirst()
  return row && { subjectId: row.subject_id, secretEncrypted: row.secret_encrypted }
}
