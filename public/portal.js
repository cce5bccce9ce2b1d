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

function renumber(fieldset) {
  fieldset.querySelectorAll('[data-redirect-row]').forEach((row, index) => {
    const n = index + 1
    const input = row.querySelector('input')
    const label = row.querySelector('label')
    input.id = `redirect-uri-${n}`
    label.htmlFor = input.id
    label.textContent = `Redirect URL ${n}`
    const remove = row.querySelector('[data-remove-row]')
    remove.setAttribute('aria-label', `Remove redirect URL ${n}`)
  })
}

function enableRedirectRows() {
  for (const fieldset of document.querySelectorAll('[data-redirect-rows]')) {
    const add = fieldset.querySelector('[data-add-row]')
    const rows = () => fieldset.querySelectorAll('[data-redirect-row]')
    const wireRemove = (row) => {
      const remove = row.querySelector('[data-remove-row]')
      remove.hidden = false
      remove.addEventListener('click', () => {
        if (rows().length > 1) {
          row.remove()
          renumber(fieldset)
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
      input.setAttribute('aria-describedby', 'redirect-hint')
      for (const note of copy.querySelectorAll('.field-error, .field-warning')) note.remove()
      add.before(copy)
      wireRemove(copy)
      renumber(fieldset)
      input.focus()
    })
    renumber(fieldset)
  }
}

enableCopyButtons()
enableRedirectRows()

// OAuth 2.0 Form Post Response Mode: the response form posts itself; the
// button stays for browsers that run no scripts.
function submitResponseForms() {
  for (const form of document.querySelectorAll('form[data-auto-submit]')) form.submit()
}

submitResponseForms()
