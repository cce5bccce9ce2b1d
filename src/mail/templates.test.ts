import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  alreadyRegisteredMail,
  emailChangeMail,
  emailChangeNoticeMail,
  invitationMail,
  passwordChangedMail,
  passwordResetMail,
  verificationMail,
} from './templates.js'

describe('mail templates', () => {
  it('name the product people know (GATEHOUSE_PRODUCT_NAME) in the subject, the words and the signature, never Gatehouse', () => {
    const mails = [
      passwordResetMail('Acme ID', 'Ada', 'https://id.acme.example/reset', 3600),
      passwordChangedMail('Acme ID', 'Ada', 'https://id.acme.example'),
      verificationMail('Acme ID', 'Ada', 'https://id.acme.example/verify'),
      emailChangeMail('Acme ID', 'Ada', 'ada@new.example', 'https://id.acme.example/change'),
      emailChangeNoticeMail('Acme ID', 'Ada', 'ada@new.example', 'https://id.acme.example'),
      invitationMail('Acme ID', 'Engines', 'Charles', 'member', 'https://id.acme.example/invitations/x', 7),
      alreadyRegisteredMail('Acme ID', 'Ada', 'https://id.acme.example'),
    ]
    for (const mail of mails) {
      assert.match(`${mail.subject}\n${mail.text}`, /Acme ID/)
      assert.match(mail.text, /— Acme ID\n$/)
      assert.match(mail.html, /<p>— Acme ID<\/p>/)
      assert.doesNotMatch(`${mail.subject}${mail.text}${mail.html}`, /Gatehouse/)
    }
  })

  it('escapes the product name in the HTML part', () => {
    assert.match(verificationMail('A <b>&</b>', 'Ada', 'https://x.example').html, /— A &#60;b&#62;&#38;&#60;\/b&#62;/)
  })
})
