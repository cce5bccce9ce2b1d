import { execFileSync } from 'node:child_process'

/** The authenticator-app code for a base32 secret at `at` (epoch ms), computed by Debian's oathtool, an implementation independent of ours. */
export function oathtoolCode(secret: string, at: number): string {
  return execFileSync('oathtool', ['--totp', '--base32', '--now', `@${Math.floor(at / 1000)}`, secret], { encoding: 'utf8' }).trim()
}
