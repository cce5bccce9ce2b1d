import type { MailBody } from './transport.js'

/*
 * The words of every mail Gatehouse sends, each as plain text and HTML.
 * Names and addresses are what people typed: the HTML escapes them.
 */

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

interface Paragraph {
  text: string
  link?: { href: string; label: string }
}

function compose(subject: string, greeting: string, paragraphs: Paragraph[], link?: string): MailBody {
  const text = [greeting, ...paragraphs.map((p) => (p.link ? `${p.text}\n\n${p.link.href}` : p.text)), '— Gatehouse'].join('\n\n') + '\n'
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<p>${escape(greeting)}</p>` +
    paragraphs.map((p) => `<p>${escape(p.text)}</p>` + (p.link ? `<p><a href="${escape(p.link.href)}">${escape(p.link.label)}</a></p>` : '')).join('') +
    `<p>— Gatehouse</p></body></html>`
  return { subject, text, html, ...(link ? { link } : {}) }
}

export function passwordResetMail(name: string, link: string, ttlSeconds: number): MailBody {
  const minutes = Math.round(ttlSeconds / 60)
  return compose(
    'Reset your Gatehouse password',
    `Hello ${name},`,
    [
      {
        text: 'Someone asked to reset the password of your Gatehouse account. Follow this link to choose a new one:',
        link: { href: link, label: 'Choose a new password' },
      },
      { text: `The link works once, for ${minutes} minutes. If you did not ask for it, ignore this mail: your password stays as it is.` },
    ],
    link,
  )
}

export function passwordChangedMail(name: string, issuer: string): MailBody {
  return compose('Your Gatehouse password was changed', `Hello ${name},`, [
    { text: 'The password of your Gatehouse account was just changed, and every other session was signed out.' },
    {
      text: 'Apps you authorised and your personal access tokens keep working. If this was not you, reset your password at once and revoke them:',
      link: { href: `${issuer}/login/forgot`, label: 'Reset your password' },
    },
  ])
}

export function verificationMail(name: string, link: string): MailBody {
  return compose(
    'Confirm your e-mail address for Gatehouse',
    `Hello ${name},`,
    [{ text: 'Follow this link to confirm that this address is yours:', link: { href: link, label: 'Confirm my address' } }],
    link,
  )
}

export function emailChangeMail(name: string, newEmail: string, link: string): MailBody {
  return compose(
    'Confirm your new e-mail address for Gatehouse',
    `Hello ${name},`,
    [
      { text: `Follow this link to make ${newEmail} the address of your Gatehouse account:`, link: { href: link, label: 'Use this address' } },
      { text: 'Until you do, your account keeps its current address. If you did not ask for this, ignore this mail.' },
    ],
    link,
  )
}

export function emailChangeNoticeMail(name: string, newEmail: string, issuer: string): MailBody {
  return compose('A new e-mail address was requested for your Gatehouse account', `Hello ${name},`, [
    {
      text: `Someone signed in to your Gatehouse account asked to change its address to ${newEmail}. The change happens only when the link sent there is followed.`,
    },
    { text: 'If this was not you, change your password at once:', link: { href: `${issuer}/login/forgot`, label: 'Reset your password' } },
  ])
}

export function invitationMail(teamName: string, inviterName: string | undefined, role: string, link: string, ttlDays: number): MailBody {
  const who = inviterName ? `${inviterName} invited you` : 'You are invited'
  return compose(
    `Join ${teamName} on Gatehouse`,
    'Hello,',
    [
      {
        text: `${who} to join the team ${teamName} on Gatehouse as ${role === 'owner' ? 'an owner' : 'a member'}. Follow this link to accept:`,
        link: { href: link, label: 'Accept the invitation' },
      },
      { text: `The link works once, for ${ttlDays} days, and only for this e-mail address. If you did not expect it, ignore this mail.` },
    ],
    link,
  )
}

export function alreadyRegisteredMail(name: string, issuer: string): MailBody {
  return compose('You already have a Gatehouse account', `Hello ${name},`, [
    {
      text: 'Someone tried to sign up for Gatehouse with this e-mail address, which already has an account. Log in instead:',
      link: { href: `${issuer}/login`, label: 'Log in' },
    },
    { text: 'If you forgot your password, reset it from the login page. If this was not you, ignore this mail: nothing was changed.' },
  ])
}

export function webhookDisabledMail(name: string, teamName: string, url: string, issuer: string): MailBody {
  return compose(`A webhook endpoint of ${teamName} was disabled`, `Hello ${name},`, [
    {
      text: `Gatehouse could not deliver events to ${url} for three days and stopped sending to it. Events that failed are kept in its delivery log.`,
      link: { href: `${issuer}/team/webhooks`, label: 'Open the webhooks of your team' },
    },
    { text: 'Once the endpoint answers again, enable it there and send the failed deliveries again.' },
  ])
}
