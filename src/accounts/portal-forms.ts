import { setTimeout as sleep } from 'node:timers/promises'
import type { Keys } from '../crypto/master-key.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import {
  deleteFormSubmission,
  findFormSubmission,
  insertFormSubmission,
  insertShownOnce,
  setFormSubmissionLocation,
  takeShownOnce,
} from '../db/portal-forms.js'
import { SESSION_TTL_MS } from './sessions.js'

/** A secret waits this long for the page that shows it: long enough for a slow redirect, short enough that it is not kept. */
export const SHOWN_ONCE_TTL_MS = 5 * 60 * 1000

/** How long a repeat of a form waits for the first submission to finish before it gives up waiting. */
const REPEAT_WAIT_MS = 5_000
const REPEAT_POLL_MS = 50

/** The id that a page puts in each form it renders: a double click, a reload or a second tab's post of that form repeat it. */
export function newFormId(): string {
  return randomSecret(16)
}

export type Submission = { first: true; key: string } | { first: false; location: string | undefined }

function submissionKey(sessionId: string, formId: string): string {
  return hashSecret(`form:${sessionId}:${formId}`)
}

/**
 * Records the first submission of a form instance. A repeat learns where the
 * first one sent the browser, waiting a little while the first is still
 * under way, so both clicks of a double click end on the same page.
 */
export async function claimSubmission(db: Db, sessionId: string, formId: string, now: number): Promise<Submission> {
  const key = submissionKey(sessionId, formId)
  if (await insertFormSubmission(db.kysely, key, now, now + SESSION_TTL_MS)) return { first: true, key }
  for (let waited = 0; ; waited += REPEAT_POLL_MS) {
    const found = await findFormSubmission(db.kysely, key)
    // Gone: the first one failed and was released, so this one may try again.
    if (!found) return claimSubmission(db, sessionId, formId, now)
    if (found.location !== null || waited >= REPEAT_WAIT_MS) return { first: false, location: found.location ?? undefined }
    await sleep(REPEAT_POLL_MS)
  }
}

export function finishSubmission(db: Db, key: string, location: string): Promise<void> {
  return setFormSubmissionLocation(db.kysely, key, location)
}

/** A submission that was refused (a validation error) did nothing, so the same form may be sent again. */
export function releaseSubmission(db: Db, key: string): Promise<void> {
  return deleteFormSubmission(db.kysely, key)
}

/**
 * Keeps a secret, encrypted, for one view by this session within a few
 * minutes, so it is shown on the page a form redirects to and never travels
 * in a URL. Returns the id of that view.
 */
export async function keepForOneView(db: Db, keys: Keys, sessionId: string, subjectId: string, secret: string, now: number): Promise<string> {
  const viewId = randomSecret(16)
  await insertShownOnce(db.kysely, {
    idHash: hashSecret(viewId),
    sessionHash: hashSecret(sessionId),
    subjectId,
    secretEncrypted: seal(keys.encryption, secret),
    createdAt: now,
    expiresAt: now + SHOWN_ONCE_TTL_MS,
  })
  return viewId
}

/** The secret of the view, once: a second look, another session or a late one gets nothing. */
export async function takeOneView(
  db: Db,
  keys: Keys,
  sessionId: string,
  viewId: string,
  now: number,
): Promise<{ subjectId: string; secret: string } | undefined> {
  const row = await takeShownOnce(db.kysely, hashSecret(viewId), hashSecret(sessionId), now)
  return row && { subjectId: row.subjectId, secret: open(keys.encryption, row.secretEncrypted) }
}
