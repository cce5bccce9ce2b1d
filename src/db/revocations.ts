import type { Executor } from './executor.js'

/** The PostgreSQL channel every process listens on for revocations; migration 014's triggers notify on it. */
export const REVOCATION_CHANNEL = 'gatehouse_revoked'

/** Whose tokens may have just stopped working: some users', or anyone's (a client or team went, with what it held). */
export type RevokedHolders = readonly number[] | 'all'

/** `pending`: written inside a transaction not yet committed. */
type Listener = (holders: RevokedHolders, pending: boolean) => void

// Keyed by the dialect's adapter, which a database and its transactions
// share, so a revocation written inside a transaction reaches the listeners
// of the database it belongs to.
const listeners = new WeakMap<object, Set<Listener>>()

/**
 * Tells this process that holders' tokens changed standing: called by every
 * write that revokes, disables or removes, so the verified-token cache of
 * this process forgets them at once. Other processes learn of the same
 * writes through the database's notifications (migration 014) or Redis.
 */
export function announceRevoked(db: Executor, holders: RevokedHolders): void {
  if (holders !== 'all' && holders.length === 0) return
  for (const listener of listeners.get(db.getExecutor().adapter) ?? []) listener(holders, db.isTransaction)
}

/** Listens for this process's revocations on the database; returns the way to stop. */
export function onRevoked(db: Executor, listener: Listener): () => void {
  const adapter = db.getExecutor().adapter
  let set = listeners.get(adapter)
  if (!set) listeners.set(adapter, (set = new Set()))
  set.add(listener)
  return () => set.delete(listener)
}
