import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { openDomainWithApp, type TestDomain } from '../../testing/domain.js'
import { PASSWORD, seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { checkAccessToken } from '../../tokens/verify.js'
import { InvalidGrant, InvalidRequest, UnauthorizedClient } from '../../protocol/errors.js'
import { passwordGrant } from './password.js'

describe('password grant (seed 004, RFC 6749 §4.3)', () => {
  let domain: TestDomain
  let ada: SeededUser
  let firstParty: SeededClient
  let thirdParty: SeededClient

  before(async () => {
    ;({ domain, ada, app: firstParty } = await openDomainWithApp({ isFirstParty: true }))
    await seedUser(domain.db, 'bob@example.com', { team: 'Looms' })
    thirdParty = await seedClient(domain, ada)
  })
  after(() => domain.close())

  const grant = (client: SeededClient, params: Record<string, string>, address = '203.0.113.5') =>
    passwordGrant(domain, client.client, { username: 'ada@example.com', password: PASSWORD, ...params }, address)

  it('gives a first-party client tokens of the user’s first team, with the scopes asked for', async () => {
    const response = await grant(firstParty, { scope: 'read' })
    assert.equal(response.scope, 'read')
    const verdict = await checkAccessToken(domain, response.access_token)
    assert.equal(verdict.active && verdict.row.teamId, ada.team!.id)
  })

  it('is only for first-party clients: others get unauthorized_client, even with the right password', async () => {
    await assert.rejects(grant(thirdParty, {}), UnauthorizedClient)
  })

  it('answers a wrong password and an unknown user with the same invalid_grant', async () => {
    const wrong = await grant(firstParty, { password: 'not the password' }, '203.0.113.6').catch((err: unknown) => err)
    const unknown = await grant(firstParty, { username: 'nobody@example.com' }, '203.0.113.6').catch((err: unknown) => err)
    assert.ok(wrong instanceof InvalidGrant && unknown instanceof InvalidGrant)
    assert.equal(wrong.description, unknown.description)
  })

  it('gives tokens only for a team the user belongs to (team_id)', async () => {
    const looms = await domain.db.kysely.selectFrom('teams').select('id').where('name', '=', 'Looms').executeTakeFirstOrThrow()
    await assert.rejects(grant(firstParty, { team_id: String(looms.id) }), InvalidGrant)
    await assert.rejects(grant(firstParty, { team_id: 'engines' }), InvalidRequest)
  })

  it('records the authorisation, so the app shows on Team apps and can be revoked there', async () => {
    await grant(firstParty, {})
    const consent = await domain.db.kysely
      .selectFrom('consents')
      .select('client_id')
      .where('user_id', '=', ada.user.id)
      .where('client_id', '=', firstParty.id)
      .executeTakeFirst()
    assert.equal(consent?.client_id, firstParty.id)
  })
})
