import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { findTeamByName, listTeamMembers } from '../../db/teams.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { seedUser, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, testIdTexts } from '../../testing/html.js'
import { browserFor } from '../../testing/oauth.js'
import { pageHtml, seeOther, submitForm } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

await forEachDialect('portal: a new team from the team switcher', (dialect) => {
  let server: TestServer
  let ada: SeededUser

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
  })
  after(async () => {
    await server.stop()
  })

  it('the switcher offers "New team", which leads to the form', async () => {
    const browser = await browserFor(server, ada.user)
    const html = await pageHtml(browser, '/')
    assert.deepEqual(testIdTexts(html, 'new-team-option'), ['New team…'])
    assert.equal(seeOther(await submitForm(browser, '/', '/team', { team_id: 'new', return_to: '/settings' })), '/teams/new')
    assert.match(await pageHtml(browser, '/teams/new'), /<label for="team-name">Team name<\/label>/)
  })

  it('creates the team with its creator as owner, makes it the active team, and logs it with the address', async () => {
    const browser = await browserFor(server, ada.user)
    assert.equal(seeOther(await submitForm(browser, '/teams/new', '/teams', { name: '  Looms ' })), '/')
    const team = await findTeamByName(server.ctx.db.kysely, 'Looms')
    assert.ok(team)
    assert.deepEqual(
      (await listTeamMembers(server.ctx.db.kysely, team.id)).map((m) => [m.user.email, m.role]),
      [['ada@example.com', 'owner']],
    )
    assert.deepEqual(testIdTexts(await pageHtml(browser, '/'), 'active-team'), ['Looms'])
    await server.ctx.activity.flush()
    const logged = await server.ctx.db.kysely.selectFrom('activities').selectAll().where('action', '=', 'team.created').execute()
    assert.deepEqual(
      logged.map((row) => [row.team_id, row.user_id, row.detail, row.address]),
      [[team.id, ada.user.id, 'Looms', '127.0.0.1']],
    )
    assert.ok(testIdTexts(await pageHtml(browser, '/team/activity'), 'activity-row').some((row) => row.includes('Team created') && row.includes('127.0.0.1')))
  })

  it('refuses a name taken or blank, showing the form again, and creates nothing', async () => {
    const browser = await browserFor(server, ada.user)
    const taken = await submitForm(browser, '/teams/new', '/teams', { name: 'Engines' })
    assert.equal(taken.status, 409)
    const html = await taken.text()
    assert.ok(html.includes(escapeHtml(MESSAGES.team_name_taken)))
    assert.match(html, /value="Engines"/)
    const blank = await submitForm(browser, '/teams/new', '/teams', { name: '\u200B' })
    assert.equal(blank.status, 400)
    assert.ok((await blank.text()).includes(escapeHtml(MESSAGES.team_name_required)))
    assert.deepEqual(testIdTexts(await pageHtml(browser, '/'), 'active-team'), ['Engines'])
  })

  it('a user in no team finds "New team" in the header', async () => {
    const lin = await seedUser(server.ctx.db, 'lin@example.com')
    const browser = await browserFor(server, lin.user)
    assert.deepEqual(testIdTexts(await pageHtml(browser, '/'), 'new-team-link'), ['New team'])
    assert.equal(seeOther(await submitForm(browser, '/teams/new', '/teams', { name: 'Lin Labs' })), '/')
    assert.deepEqual(testIdTexts(await pageHtml(browser, '/'), 'active-team'), ['Lin Labs'])
  })
})
