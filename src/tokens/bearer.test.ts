import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { addMember, removeMember } from '../accounts/teams.js'
import { setDisabled } from '../accounts/users.js'
import { openDomainWithApp, tokensFor, type TestDomain } from '../testing/domain.js'
import { seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { signAccessToken } from './access-token.js'
import { authenticateBearer } from './bearer.js'
import { createPersonalAccessToken } from './personal-access-tokens.js'

describe('the bearer check (RFC 6750)', () => {
  let domain: TestDomain
  let ada: SeededUser
  let app: SeededClient

  before(async () => {
    ;({ domain, ada, app } = await openDomainWithApp())
  })
  after(() => domain.close())

  const accessToken = async (holder = ada, scopes = ''): Promise<string> => (await tokensFor(domain, holder, app, scopes)).access_token

  it('accepts a live access token as its user, in its team, for its client', async () => {
    const verdict = await authenticateBearer(domain, await accessToken(ada, 'read'))
    assert.ok(verdict.ok)
    assert.equal(verdict.principal.user.id, ada.user.id)
    assert.equal(verdict.principal.teamId, ada.team!.id)
    assert.equal(verdict.principal.clientId, app.id)
    assert.deepEqual(verdict.principal.scopes, ['read'])
  })

  it('takes the scopes from the stored token, not from the JWT: a re-signed token claiming more gets only what was granted', async () => {
    const token = await accessToken(ada, 'read')
    const claims = decodeJwt(token)
    const forged = await signAccessToken(domain.keyRing, domain.config.issuer, {
      jti: String(claims.jti),
      clientId: app.id,
      userId: ada.user.id,
      teamId: ada.team!.id,
      scopes: ['read', 'write'],
      issuedAtSeconds: Number(claims.iat),
      expiresAtSeconds: Number(claims.exp),
    })
    const verdict = await authenticateBearer(domain, forged)
    assert.ok(verdict.ok)
    assert.deepEqual(verdict.principal.scopes, ['read'])
  })

  it('refuses a token that is not signed by our keys, and one never stored', async () => {
    const token = await accessToken()
    const [header, payload] = token.split('.')
    assert.equal((await authenticateBearer(domain, `${header}.${payload}.c2lnbmF0dXJl`)).ok, false)
    const unknown = await signAccessToken(domain.keyRing, domain.config.issuer, {
      jti: 'never-issued',
      clientId: app.id,
      userId: ada.user.id,
      teamId: ada.team!.id,
      scopes: [],
      issuedAtSeconds: Math.floor(domain.clock() / 1000),
      expiresAtSeconds: Math.floor(domain.clock() / 1000) + 60,
    })
    assert.deepEqual(await authenticateBearer(domain, unknown), { ok: false, reason: 'token revoked' })
  })

  it('accepts a personal access token as its user, with all of the user’s permissions', async () => {
    const { token } = await createPersonalAccessToken(domain.db, { userId: ada.user.id, teamId: ada.team!.id, name: 'laptop' }, domain.clock())
    const verdict = await authenticateBearer(domain, token)
    assert.ok(verdict.ok)
    assert.equal(verdict.principal.kind, 'personal_access_token')
    assert.deepEqual(verdict.principal.scopes, [])
  })

  it('disabling a user ends their access and personal access tokens for good: enabling them again brings none back', async () => {
    const eve = await seedUser(domain.db, 'eve@example.com', { team: 'Engines', role: 'member' })
    const oauth = await accessToken(eve)
    const { token: pat } = await createPersonalAccessToken(domain.db, { userId: eve.user.id, teamId: eve.team!.id, name: 'ci' }, domain.clock())
    const { revoked } = await setDisabled(domain.db, 'eve@example.com', true, domain.clock())
    assert.deepEqual(revoked, { grants: 1, personalAccessTokens: 1 })
    await setDisabled(domain.db, 'eve@example.com', false, domain.clock())
    assert.equal((await authenticateBearer(domain, oauth)).ok, false, 'the OAuth access token')
    assert.equal((await authenticateBearer(domain, pat)).ok, false, 'the personal access token')
  })

  it('removing a user from a team ends what they hold in that team, not elsewhere: adding them again brings none back', async () => {
    const sam = await seedUser(domain.db, 'sam@example.com', { team: 'Engines', role: 'member' })
    await seedUser(domain.db, 'lou@example.com', { team: 'Looms' })
    const { team: loomsTeam } = await addMember(domain.db, 'Looms', 'sam@example.com', 'member', domain.clock())
    const looms = { user: sam.user, team: loomsTeam }
    const inEngines = await accessToken(sam)
    const inLoomsToken = await accessToken(looms)
    const { token: pat } = await createPersonalAccessToken(domain.db, { userId: sam.user.id, teamId: sam.team!.id, name: 'ci' }, domain.clock())

    const { revoked } = await removeMember(domain.db, 'Engines', 'sam@example.com', domain.clock())
    assert.deepEqual(revoked, { grants: 1, personalAccessTokens: 1 })
    await addMember(domain.db, 'Engines', 'sam@example.com', 'member', domain.clock())
    assert.equal((await authenticateBearer(domain, inEngines)).ok, false, 'the token for the team left')
    assert.equal((await authenticateBearer(domain, pat)).ok, false, 'the personal access token for the team left')
    assert.equal((await authenticateBearer(domain, inLoomsToken)).ok, true, 'the token for the other team')
  })
})
