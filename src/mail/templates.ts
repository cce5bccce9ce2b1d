import type { MailBody } from './transport.js'

/*
 * The words of every mail Gatehouse sends, signed with the product name people know, each as plain text and HTML.
 * Names and addresses are what people typed: the HTML escapes them.
 */

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

interface Paragraph {
  text: string
  link?: { href: string; label: string }
}

function compose(product: string, subject: string, greeting: string, paragraphs: Paragraph[], link?: string): MailBody {
  const text = [greeting, ...paragraphs.map((p) => (p.link ? `${p.text}\n\n${p.link.href}` : p.text)), `— ${product}`].join('\n\n') + '\n'
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<p>${escape(greeting)}</p>` +
    paragraphs.map((p) => `<p>${escape(p.text)}</p>` + (p.link ? `<p><a href="${escape(p.link.href)}">${escape(p.link.label)}</a></p>` : '')).join('') +
    `<p>— ${escape(product)}</p></body></html>`
  return { subject, text, html, ...(link ? { link } : {}) }
}

export function passwordResetMail(product: string, name: string, link: string, ttlSeconds: number): MailBody {
  const minutes = Math.round(ttlSeconds / 60)
  return compose(
    product,
    `Reset your ${product} password`,
    `Hello ${name},`,
    [
      {
        text: `Someone asked to reset the password of your ${product} account. Follow this link to choose a new one:`,
        link: { href: link, label: 'Choose a new password' },
      },
      { text: `The link works once, for ${minutes} minutes. If you did not ask for it, ignore this mail: your password stays as it is.` },
    ],
    link,
  )
}

export function passwordChangedMail(product: string, name: string, issuer: string): MailBody {
  return compose(product, `Your ${product} password was changed`, `Hello ${name},`, [
    { text: `The password of your ${product} account was just changed, and every other session was signed out.` },
    {
      text: 'Apps you authorised and your personal access tokens keep working. If this was not you, reset your password at once and revoke them:',
      link: { href: `${issuer}/login/forgot`, label: 'Reset your password' },
    },
  ])
}

export function verificationMail(product: string, name: string, link: string): MailBody {
  return compose(
    product,
    `Confirm your e-mail address for ${product}`,
    `Hello ${name},`,
    [{ text: 'Follow this link to confirm that this address is yours:', link: { href: link, label: 'Confirm my address' } }],
    link,
  )
}

export function emailChangeMail(product: string, name: string, newEmail: string, link: string): MailBody {
  return compose(
    product,
    `Confirm your new e-mail address for ${product}`,
    `Hello ${name},`,
    [
      { text: `Follow this link to make ${newEmail} the address of your ${product} account:`, link: { href: link, label: 'Use this address' } },
      { text: 'Until you do, your account keeps its current address. If you did not ask for this, ignore this mail.' },
    ],
    link,
  )
}

export function emailChangeNoticeMail(product: string, name: string, newEmail: string, issuer: string): MailBody {
  return compose(product, `A new e-mail address was requested for your ${product} account`, `Hello ${name},`, [
    {
      text: `Someone signed in to your ${product} account asked to change its address to ${newEmail}. The change happens only when the link sent there is followed.`,
    },
    { text: 'If this was not you, change your password at once:', link: { href: `${issuer}/login/forgot`, label: 'Reset your password' } },
  ])
}

export function invitationMail(product: string, teamName: string, inviterName: string | undefined, role: string, link: string, ttlDays: number): MailBody {
  const who = inviterName ? `${inviterName} invited you` : 'You are invited'
  return compose(
    product,
    `Join ${teamName} on ${product}`,
    'Hello,',
    [
      {
        text: `${who} to join the team ${teamName} on ${product} as ${role === 'owner' ? 'an owner' : 'a member'}. Follow this link to accept:`,
        link: { href: link, label: 'Accept the invitation' },
      },
      { text: `The link works once, for ${ttlDays} days, and only for this e-mail address. If you did not expect it, ignore this mail.` },
    ],
    link,
  )
}

export function alreadyRegisteredMail(product: string, name: string, issuer: string): MailBody {
  return compose(product, `You already have a ${product} account`, `Hello ${name},`, [
    {
      text: `Someone tried to sign up for ${product} with this e-mail address, which already has an account. Log in instead:`,
      link: { href: `${issuer}/login`, label: 'Log in' },
    },
    { text: 'If you forgot your password, reset it from the login page. If this was not you, ignore this mail: nothing was changed.' },
  ])
}

export function factorAddedMail(product: string, name: string, what: string, issuer: string): MailBody {
  return compose(product, `A two-factor sign-in method was added to your ${product} account`, `Hello ${name},`, [
    { text: `${what} was just added to your ${product} account. From now on, signing in needs it as well as your password.` },
    {
      text: 'If this was not you, someone knows your password: reset it at once, then remove what they added.',
      link: { href: `${issuer}/login/forgot`, label: 'Reset your password' },
    },
  ])
}

export function factorRemovedMail(product: string, name: string, what: string, issuer: string): MailBody {
  return compose(product, `A two-factor sign-in method was removed from your ${product} account`, `Hello ${name},`, [
    { text: `${what} was just removed from your ${product} account.` },
    { text: 'If this was not you, reset your password at once:', link: { href: `${issuer}/login/forgot`, label: 'Reset your password' } },
  ])
}

export function factorsResetMail(product: string, name: string, issuer: string): MailBody {
  return compose(product, `Two-factor sign-in was turned off for your ${product} account`, `Hello ${name},`, [
    {
      text: `An administrator removed every two-factor sign-in method and recovery code of your ${product} account, as asked when the old ones were lost. You sign in with your password alone until you add a new one.`,
    },
    { text: 'Add an authenticator app again on your security page:', link: { href: `${issuer}/account/security`, label: 'Open your security page' } },
    { text: 'If you did not ask for this, tell your administrator at once.' },
  ])
}

export function webhookDisabledMail(product: string, name: string, teamName: string, url: string, issuer: string): MailBody {
  return compose(product, `A webhook endpoint of ${teamName} was disabled`, `Hello ${name},`, [
    {
      text: `${product} could not deliver events to ${url} for three days and stopped sending to it. Events that failed are kept in its delivery log.`,
      link: { href: `${issuer}/team/webhooks`, label: 'Open the webhooks of your team' },
    },
    { text: 'Once the endpoint answers again, enable it there and send the failed deliveries again.' },
  ])
}
