// Small enhancements of the portal pages. Every page works without this
// file: the controls it drives are hidden until it runs.

function enableCopyButtons() {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const target = document.getElementById(button.dataset.copy)
    if (!target || !navigator.clipboard) continue
    button.hidden = false
    button.addEventListener('click', async () => {
      const text = 'value' in target ? target.value : target.textContent
      try {
        await navigator.clipboard.writeText(text.trim())
        button.textContent = 'Copied'
        button.dataset.copied = ''
      } catch {
        // Clipboard refused (permissions): select the text so the person can copy it.
        if (typeof target.select === 'function') target.select()
        button.textContent = 'Press Ctrl+C to copy'
      }
    })
  }
}

// A list of URL rows names its fields (data-row-id, data-row-label, data-row-hint):
// redirect URLs and post-logout redirect URLs work alike.
function renumber(fieldset) {
  const { rowId, rowLabel } = fieldset.dataset
  fieldset.querySelectorAll('[data-redirect-row]').forEach((row, index) => {
    const n = index + 1
    const input = row.querySelector('input')
    const label = row.querySelector('label')
    input.id = `${rowId}-${n}`
    label.htmlFor = input.id
    label.textContent = `${rowLabel} ${n}`
    const remove = row.querySelector('[data-remove-row]')
    remove.setAttribute('aria-label', `Remove ${rowLabel.toLowerCase()} ${n}`)
  })
}

function enableRedirectRows() {
  for (const fieldset of document.querySelectorAll('[data-redirect-rows]')) {
    const add = fieldset.querySelector('[data-add-row]')
    const rows = () => fieldset.querySelectorAll('[data-redirect-row]')
    // A lone URL has no Remove button: emptying its field does the same.
    const showRemoves = () => {
      const all = rows()
      for (const row of all) row.querySelector('[data-remove-row]').hidden = all.length < 2
    }
    const wireRemove = (row) => {
      const remove = row.querySelector('[data-remove-row]')
      remove.addEventListener('click', () => {
        if (rows().length > 1) {
          row.remove()
          renumber(fieldset)
          showRemoves()
          rows()[0].querySelector('input').focus()
        } else {
          row.querySelector('input').value = ''
        }
      })
    }
    rows().forEach(wireRemove)
    add.hidden = false
    add.addEventListener('click', () => {
      const all = rows()
      const copy = all[all.length - 1].cloneNode(true)
      const input = copy.querySelector('input')
      input.value = ''
      input.removeAttribute('aria-invalid')
      input.setAttribute('aria-describedby', fieldset.dataset.rowHint)
      for (const note of copy.querySelectorAll('.field-error, .field-warning')) note.remove()
      add.before(copy)
      wireRemove(copy)
      renumber(fieldset)
      showRemoves()
      input.focus()
    })
    renumber(fieldset)
    showRemoves()
  }
}

// A form is sent once: its submit buttons are disabled while the request is
// in flight, so a double click or an impatient second click sends nothing
// more (the server also acts once per form instance, for when this cannot run).
function guardSubmissions() {
  for (const form of document.querySelectorAll('form[method="post"]')) {
    form.addEventListener('submit', (event) => {
      if (form.dataset.submitting !== undefined) {
        event.preventDefault()
        return
      }
      form.dataset.submitting = ''
      // Disabled after the browser has read the form, so the clicked button's name and value are still sent.
      window.setTimeout(() => {
        for (const button of form.querySelectorAll('button[type="submit"], button:not([type])')) {
          button.disabled = true
          button.setAttribute('aria-busy', 'true')
        }
      })
    })
  }
  // Back to a page kept in the browser's cache: its forms can be used again.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return
    for (const form of document.querySelectorAll('form[data-submitting]')) {
      delete form.dataset.submitting
      for (const button of form.querySelectorAll('button[aria-busy]')) {
        button.disabled = false
        button.removeAttribute('aria-busy')
      }
    }
  })
}

// After a refused form, the error summary takes the focus (autofocus does not apply when the page is restored).
function focusErrorSummary() {
  const summary = document.querySelector('[data-testid="error-summary"]')
  if (summary && document.activeElement !== summary) summary.focus()
}

// The team switcher acts as soon as a team is picked, which saves the Switch button's room in the header.
function enableTeamSwitch() {
  for (const button of document.querySelectorAll('[data-switch-team]')) {
    const form = button.form
    button.hidden = true
    form.querySelector('select').addEventListener('change', () => form.requestSubmit())
  }
}

enableCopyButtons()
enableRedirectRows()

// OAuth 2.0 Form Post Response Mode: the response form posts itself; the
// button stays for browsers that run no scripts.
function submitResponseForms() {
  for (const form of document.querySelectorAll('form[data-auto-submit]')) form.submit()
}

enableTeamSwitch()
guardSubmissions()
focusErrorSummary()
submitResponseForms()

// Passkeys (WebAuthn): the controls show only in browsers that can create
// and use them from JSON options.
async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  })
  const answer = await response.json().catch(() => ({}))
  if (answer.redirect && !response.ok) window.location.assign(answer.redirect)
  if (!response.ok) throw new Error(answer.error || 'Something went wrong. Try again.')
  return answer
}

function showPasskeyError(container, error) {
  const out = container.querySelector('[data-passkey-error]')
  // The browser's own refusal (cancelled, timed out) is not the server's message.
  out.textContent = error.name === 'NotAllowedError' ? 'The passkey was not used: cancelled or timed out. Try again.' : error.message
  out.hidden = false
}

function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
}

async function signInWithPasskey(container, mediation, signal) {
  const { purpose, csrf, returnTo } = container.dataset
  const { challengeId, options } = await postJson('/login/passkey/options', { _csrf: csrf, purpose })
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options), mediation, signal })
  const { redirect } = await postJson('/login/passkey', {
    _csrf: csrf,
    purpose,
    challenge_id: challengeId,
    response: credential.toJSON(),
    return_to: returnTo,
  })
  window.location.assign(redirect)
}

function enablePasskeyLogin() {
  if (!passkeysSupported()) return
  for (const container of document.querySelectorAll('[data-passkey-login]')) {
    container.hidden = false
    let autofill
    container.querySelector('button').addEventListener('click', async () => {
      autofill?.abort()
      try {
        await signInWithPasskey(container, 'optional')
      } catch (error) {
        showPasskeyError(container, error)
      }
    })
    // The browser offers passkeys among the e-mail field's suggestions.
    if (container.dataset.purpose === 'passwordless' && document.querySelector('input[autocomplete~="webauthn"]')) {
      PublicKeyCredential.isConditionalMediationAvailable?.().then((available) => {
        if (!available) return
        autofill = new AbortController()
        // The browser's own refusals of a request made in the background (aborted, no passkey, a host that
        // cannot have passkeys, such as an IP address) stay quiet; what the server refused is said.
        signInWithPasskey(container, 'conditional', autofill.signal).catch((error) => {
          if (!(error instanceof DOMException) && !autofill.signal.aborted) showPasskeyError(container, error)
        })
      })
    }
  }
}

function enablePasskeyAdding() {
  if (!passkeysSupported()) return
  for (const form of document.querySelectorAll('form[data-passkey-add]')) {
    form.hidden = false
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const csrf = form.dataset.csrf
      try {
        const { challengeId, options } = await postJson('/account/security/passkeys/options', { _csrf: csrf })
        const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        const { redirect } = await postJson('/account/security/passkeys', {
          _csrf: csrf,
          challenge_id: challengeId,
          name: form.elements.name.value,
          response: credential.toJSON(),
        })
        window.location.assign(redirect)
      } catch (error) {
        showPasskeyError(form, error)
      }
    })
  }
}

enablePasskeyLogin()
enablePasskeyAdding()
