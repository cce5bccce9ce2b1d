import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeBrowser } from './user-agent.js'

describe('describeBrowser', () => {
  it('names the browser with its major version and the operating system', () => {
    assert.deepEqual(describeBrowser('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'), {
      browser: 'Firefox 128',
      system: 'Windows 10',
    })
    assert.deepEqual(
      describeBrowser(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      ),
      { browser: 'Safari 17', system: 'iOS 17.4' },
    )
    assert.deepEqual(describeBrowser('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'), {
      browser: 'Chrome 124',
      system: 'Linux',
    })
  })

  it('says so when it cannot tell', () => {
    assert.deepEqual(describeBrowser(null), { browser: 'Unknown browser', system: 'unknown system' })
    assert.deepEqual(describeBrowser(''), { browser: 'Unknown browser', system: 'unknown system' })
    assert.equal(describeBrowser('curl/8.5.0').system, 'unknown system')
  })
})
