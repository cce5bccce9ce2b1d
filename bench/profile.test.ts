import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { shareOf } from './profile.js'

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 })

/*
 * root → handler (app) → observe (metrics) → now (built-in)
 *                                          → next (app: called back from the metrics code)
 * root → (idle)
 */
const PROFILE = {
  startTime: 1_000_000,
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('handler', 'file:///srv/dist/src/http/api/me.js'), children: [3] },
    { id: 3, callFrame: frame('observe', 'file:///srv/node_modules/prom-client/lib/histogram.js'), children: [4, 6] },
    { id: 4, callFrame: frame('now') },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('next', 'file:///srv/dist/src/http/hooks.js'), children: [7] },
    { id: 7, callFrame: frame('writev', 'node:internal/stream_base_commons') },
  ],
  // One sample every 100 µs, the first at 1_000_100.
  samples: [2, 3, 4, 5, 6, 7, 3, 5],
  timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100],
}

const isMetrics = (url: string) => url.includes('/node_modules/prom-client/')

describe('share of a CPU profile spent in some code', () => {
  it('charges a built-in to the code that called it and a callback to its own code, and leaves idle time out', () => {
    // Busy: handler, observe, now, next, writev, observe (600 µs); the metrics code's: observe, now, observe (300 µs).
    assert.deepEqual(shareOf(PROFILE, isMetrics, { fromUs: 0, toUs: Infinity }), { share: 0.5, busyMs: 1 })
  })

  it('counts only the samples taken inside the window', () => {
    // 1_000_400 to 1_000_700: idle, next, writev, observe → one of three busy samples.
    const { share } = shareOf(PROFILE, isMetrics, { fromUs: 1_000_400, toUs: 1_000_700 })
    assert.equal(share.toFixed(4), (1 / 3).toFixed(4))
  })

  it('is zero when the window holds no busy sample', () => {
    assert.deepEqual(shareOf(PROFILE, isMetrics, { fromUs: 2_000_000, toUs: 3_000_000 }), { share: 0, busyMs: 0 })
  })
})
