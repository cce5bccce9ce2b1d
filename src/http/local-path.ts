/**
 * A return-to address after login must stay on this server: a path starting
 * with one slash. `//host`, `/\host` and absolute URLs would be open redirects.
 */
export function safeLocalPath(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 4096) return fallback
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback
  if (/[\u0000-\u001f\u007f]/.test(value)) return fallback
  const parsed = new URL(value, 'http://gatehouse.invalid')
  if (parsed.origin !== 'http://gatehouse.invalid') return fallback
  // Normalising can itself produce `//host` (from `/.//host` or `/..//host`): check the result too.
  const path = parsed.pathname + parsed.search
  if (path.startsWith('//') || path.startsWith('/\\')) return fallback
  return path
}
