/** RFC 8707: a service access tokens may be issued for, named by its URI. */
export interface Resource {
  uri: string
  /** Shown on the consent page. */
  name: string
  /** Scopes this resource defines, beyond Gatehouse's own. */
  scopes: string[]
  /** Gatehouse's own API: always there, never deleted. */
  builtIn: boolean
}
