import assert from 'node:assert/strict'
import { it } from 'node:test'
import { formatUtc, shownTime } from './format.js'

it('shows a moment in UTC, whatever offset it was written with', () => {
  assert.equal(formatUtc(new Date('2019-08-24T14:15:22Z')), '24 Aug 2019, 14:15 UTC')
  assert.equal(formatUtc(new Date('2024-01-05T03:04:59+05:00')), '4 Jan 2024, 22:04 UTC')
})

it('keeps "never" distinct from a moment', () => {
  assert.equal(shownTime(null), null)
  assert.deepEqual(shownTime(new Date('2019-08-24T14:15:22.123Z')), { text: '24 Aug 2019, 14:15 UTC', iso: '2019-08-24T14:15:22.123Z' })
})

it('shows seconds when asked, with the millisecond kept for the machine-readable value', () => {
  assert.equal(formatUtc(new Date('2019-08-24T14:15:02.999Z'), 'seconds'), '24 Aug 2019, 14:15:02 UTC')
  assert.deepEqual(shownTime(new Date('2019-08-24T14:15:22.123Z'), 'seconds'), { text: '24 Aug 2019, 14:15:22 UTC', iso: '2019-08-24T14:15:22.123Z' })
})
