import { execFileSync } from 'node:child_process'
import { confirmTotpEnrolment, pendingTotpEnrolment, startTotpEnrolment, type FactorDeps } from '../accounts/factors.js'
import type { User } from '../accounts/types.js'

/** The authenticator-app code for a base32 secret at `at` (epoch ms), computed by Debian's oathtool, an implementation independent of ours. */
export function oathtoolCode(secret: string, at: number): string {
  return execFileSync('oathtool', ['--totp', '--base32', '--now', `@${Math.floor(at / 1000)}`, secret], { encoding: 'utf8' }).trim()
}

/** Gives the user an authenticator app, as the security page does, with a code from oathtool; returns the app's secret. */
export async function enrolApp(deps: FactorDeps, user: User): Promise<string> {
  await startTotpEnrolment(deps, user)
  const enrolment = (await pendingTotpEnrolment(deps, user))!
  await confirmTotpEnrolment(deps, user, enrolment.factorId, oathtoolCode(enrolment.secret, deps.clock()), '127.0.0.1')
  return enrolment.secret
}
