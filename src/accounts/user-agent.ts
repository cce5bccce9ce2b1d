import Bowser from 'bowser'

/** A session's browser and operating system as a person names them, such as "Firefox 128" and "Windows 10". */
export interface BrowserDescription {
  browser: string
  system: string
}

function named(name: string | undefined, version: string | undefined): string | undefined {
  if (!name) return undefined
  return version ? `${name} ${version}` : name
}

/**
 * What the User-Agent header says the browser is, shown so a person can tell
 * their sessions apart. The header is whatever the client chose to send, so
 * this describes, it does not prove; the major version is enough to tell two
 * browsers apart and changes less often than the rest.
 */
export function describeBrowser(userAgent: string | null): BrowserDescription {
  const parsed = userAgent ? Bowser.parse(userAgent) : undefined
  const major = parsed?.browser.version?.split('.')[0]
  return {
    browser: named(parsed?.browser.name, major) ?? 'Unknown browser',
    system: named(parsed?.os.name, parsed?.os.versionName ?? parsed?.os.version) ?? 'unknown system',
  }
}
