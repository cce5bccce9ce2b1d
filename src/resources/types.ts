/** RFC 8707: a service access tokens may be issued for, named by its URI. */
export interface Resource {
  uri: string
  /** Shown on the consent page. */
  name: string
  /** Scopes this resource defines, beyond Gatehouse's own. */
  scopes: string[]
  /** What a scope lets an app do, in words people read on the consent page; scopes without one are left out. */
  scopeDescriptions: Record<string, string>
  /** Gatehouse's own API: always there, never deleted. */
  builtIn: boolean
}
