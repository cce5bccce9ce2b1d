import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../testing/dialects.js'
import { seedUser, type SeededUser } from '../testing/fixtures.js'
import { HttpClient } from '../testing/http-client.js'
import { MESSAGES } from '../messages.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { acceptAsUser, cancelInvitation, exchangeInvitationLink, invite, INVITATION_TTL_MS, type InvitationDeps } from './invitations.js'
import { changeRole, leaveTeam, membersWithActivity, removeFromTeam } from './members.js'

await forEachDialect('team members and invitations', (dialect) => {
  let server: TestServer
  let offset = 0
  let deps: InvitationDeps
  let ada: SeededUser
  let grace: SeededUser

  before(async () => {
    server = await startTestServer(dialect, {}, () => Date.now() + offset)
    deps = { db: server.ctx.db, activity: server.ctx.activity, mail: server.ctx.mail, issuer: server.url, clock: server.ctx.clock }
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    grace = await seedUser(server.ctx.db, 'grace@example.com', { name: 'Grace', team: 'Engines', role: 'member' })
  })
  after(() => server.stop())

  const as = (seeded: SeededUser) => ({ user: seeded.user, address: '127.0.0.1' })
  const teamId = () => ada.team!.id

  it('the last owner can neither leave nor be demoted nor removed; with a second owner, both can', async () => {
    await assert.rejects(leaveTeam(server.ctx.db, server.ctx.activity, teamId(), as(ada), Date.now()), { code: 'last_owner_leave' })
    await assert.rejects(changeRole(server.ctx.db, server.ctx.activity, teamId(), ada.user.id, 'member', as(ada)), { code: 'last_owner_demote' })
    await assert.rejects(removeFromTeam(server.ctx.db, server.ctx.activity, teamId(), ada.user.id, as(ada), Date.now()), { code: 'last_owner_leave' })
    await assert.rejects(changeRole(server.ctx.db, server.ctx.activity, teamId(), grace.user.id, 'owner', as(grace)), { code: 'owner_only' })

    await changeRole(server.ctx.db, server.ctx.activity, teamId(), grace.user.id, 'owner', as(ada))
    // Two owners demoting each other at once: one of them stays owner.
    const outcomes = await Promise.allSettled([
      changeRole(server.ctx.db, server.ctx.activity, teamId(), ada.user.id, 'member', as(grace)),
      changeRole(server.ctx.db, server.ctx.activity, teamId(), grace.user.id, 'member', as(ada)),
    ])
    const owners = (await membersWithActivity(server.ctx.db, teamId())).filter((m) => m.role === 'owner')
    assert.equal(owners.length, 1, JSON.stringify(outcomes.map((o) => o.status)))
    const owner = owners[0]!.user.id === ada.user.id ? ada : grace
    const other = owner === ada ? grace : ada
    await changeRole(server.ctx.db, server.ctx.activity, teamId(), other.user.id, 'owner', as(owner))
    await leaveTeam(server.ctx.db, server.ctx.activity, teamId(), as(other), Date.now())
    const left = await membersWithActivity(server.ctx.db, teamId())
    assert.deepEqual(
      left.map((m) => [m.user.email, m.role]),
      [[owner.user.email, 'owner']],
    )
    // The one who left comes back by invitation, for the tests below.
    const sent = await invite(deps, teamId(), other.user.email, 'member', as(owner))
    const form = await exchangeInvitationLink(server.ctx.db, sent.link.split('/').pop()!, Date.now())
    await acceptAsUser(deps, form, other.user, null)
    await server.ctx.activity.flush()
    const actions = await server.ctx.db.kysely.selectFrom('activities').select(['action', 'detail']).where('team_id', '=', teamId()).execute()
    for (const action of ['member.role_changed', 'member.left', 'member.invited', 'invitation.accepted']) {
      assert.ok(
        actions.some((a) => a.action === action),
        `${action} recorded`,
      )
    }
  })

  it('an invitation link: used, expired, cancelled and tampered links each say so; none is a 500', async () => {
    const client = new HttpClient(server.url)
    const used = await invite(deps, teamId(), 'newcomer@example.com', 'member', as(ada))
    const first = await client.get(new URL(used.link).pathname)
    assert.equal(first.status, 303)
    assert.equal(first.headers.get('location'), '/invitation')
    assert.equal(first.headers.get('referrer-policy'), 'no-referrer')
    const page = await client.get('/invitation')
    const html = await page.text()
    assert.equal(page.status, 200)
    assert.match(html, /newcomer@example\.com/)
    const formToken = /name="invitation" value="([^"]+)"/.exec(html)![1]!
    assert.ok(!html.includes(new URL(used.link).pathname.split('/').pop()!), 'the link token is not on the page')
    const joined = await client.postForm('/invitation', { invitation: formToken, name: 'Newcomer', password: 'a long enough password' })
    assert.equal(joined.status, 303)
    const user = await server.ctx.db.kysely.selectFrom('users').select(['is_verified']).where('email', '=', 'newcomer@example.com').executeTakeFirstOrThrow()
    assert.equal(Number(user.is_verified), 1)

    const again = await new HttpClient(server.url).get(new URL(used.link).pathname)
    assert.equal(again.status, 410)
    assert.match(await again.text(), /data-problem="invitation_used"/)

    const expiring = await invite(deps, teamId(), 'late@example.com', 'member', as(ada))
    offset = INVITATION_TTL_MS + 1000
    try {
      const expired = await new HttpClient(server.url).get(new URL(expiring.link).pathname)
      assert.equal(expired.status, 410)
      assert.match(await expired.text(), /data-problem="invitation_expired"/)
    } finally {
      offset = 0
    }

    const cancelled = await invite(deps, teamId(), 'cancelled@example.com', 'member', as(ada))
    await cancelInvitation(deps, teamId(), cancelled.invitation.id, as(ada))
    const cancelledPage = await new HttpClient(server.url).get(new URL(cancelled.link).pathname)
    assert.equal(cancelledPage.status, 410)
    assert.match(await cancelledPage.text(), /data-problem="invitation_cancelled"/)

    const tampered = await new HttpClient(server.url).get(`${new URL(cancelled.link).pathname.slice(0, -3)}abc`)
    assert.equal(tampered.status, 404)
    assert.match(await tampered.text(), /data-problem="invitation_invalid"/)
    const noForm = await new HttpClient(server.url).get('/invitation')
    assert.equal(noForm.status, 404)
    const forgedPost = await new HttpClient(server.url).postForm('/invitation', { invitation: 'forged', name: 'X', password: 'a long enough password' })
    assert.equal(forgedPost.status, 404)
  })

  it('a password chosen on an invitation is refused when commonly used, as on reset; the form keeps what was typed', async () => {
    const client = new HttpClient(server.url)
    const sent = await invite(deps, teamId(), 'common@example.com', 'member', as(ada))
    await client.get(new URL(sent.link).pathname)
    const formToken = /name="invitation" value="([^"]+)"/.exec(await (await client.get('/invitation')).text())![1]!
    const refused = await client.postForm('/invitation', { invitation: formToken, name: 'Common Name', password: 'password123' })
    assert.equal(refused.status, 400)
    const html = await refused.text()
    assert.ok(html.includes(MESSAGES.password_common))
    assert.match(html, /name="name"[^>]*value="Common Name"/)
    assert.match(html, /name="password"[^>]*value="password123"/)
    const user = await server.ctx.db.kysely.selectFrom('users').select('id').where('email', '=', 'common@example.com').executeTakeFirst()
    assert.equal(user, undefined)
    const joined = await client.postForm('/invitation', { invitation: formToken, name: 'Common Name', password: 'an uncommon choice of words' })
    assert.equal(joined.status, 303)
  })

  it('sign-up is not there unless the operator opens it', async () => {
    assert.equal((await new HttpClient(server.url).get('/signup')).status, 404)
    assert.doesNotMatch(await (await new HttpClient(server.url).get('/login')).text(), /href="\/signup"/)
  })
})
