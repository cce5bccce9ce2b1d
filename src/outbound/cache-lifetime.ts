/*
 * How long a document fetched from a URL someone else chose (a client's
 * metadata document, its JWK Set) is kept, from the Cache-Control its server
 * answered with.
 */

/** Cache lifetimes are honoured within this bound, so what a server stops serving does not outlive a day here. */
const MAX_CACHE_MS = 24 * 3600 * 1000
/** Without any cache lifetime, a document is kept this long. */
const DEFAULT_CACHE_MS = 3600 * 1000

/** RFC 9111 §5.2.2: max-age, bounded; no-store and no-cache mean fetch again next time. */
export function cacheLifetimeMs(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return DEFAULT_CACHE_MS
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0
  const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)).find((m) => m !== null)
  if (!maxAge) return DEFAULT_CACHE_MS
  return Math.min(Number(maxAge[1]) * 1000, MAX_CACHE_MS)
}
