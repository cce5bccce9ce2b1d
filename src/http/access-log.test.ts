import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import type { AccessLogMode } from '../config.js'
import { ACCESS_LOG_SAMPLE_EVERY, AccessLog } from './access-log.js'

async function logLines(mode: AccessLogMode, requests: number): Promise<{ msg: string; level: number; path?: string; status?: number }[]> {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      )
      done()
    },
  })
  const logger: FastifyBaseLogger = pino({ level: 'info' }, sink)
  const app = Fastify({ loggerInstance: logger, logController: new AccessLog(mode) })
  app.get('/thing', async () => ({ ok: true }))
  app.get('/trouble', async (request) => {
    request.log.warn('something to look at')
    throw new Error('broken')
  })
  for (let i = 0; i < requests; i++) await app.inject({ method: 'GET', url: `/thing?code=secret-${i}` })
  await app.inject({ method: 'GET', url: '/trouble' })
  await app.close()
  return lines.map((l) => JSON.parse(l) as { msg: string; level: number; path?: string; status?: number })
}

describe('GATEHOUSE_ACCESS_LOG', () => {
  it('all: a line for every answered request, with the path but never the query string', async () => {
    const lines = await logLines('all', 5)
    const access = lines.filter((l) => l.msg === 'request')
    assert.equal(access.length, 6)
    assert.deepEqual(access[0], { ...access[0], path: '/thing', status: 200 })
    assert.ok(!JSON.stringify(lines).includes('secret-'), 'a code in a query string reached the log')
  })

  it('sampled: one request in a hundred gets a line', async () => {
    // With the one request to /trouble, two hundred requests in all.
    const lines = await logLines('sampled', 2 * ACCESS_LOG_SAMPLE_EVERY - 1)
    assert.equal(lines.filter((l) => l.msg === 'request').length, 2)
  })

  it('off: no access lines, and warnings and errors are still logged', async () => {
    const lines = await logLines('off', 20)
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        [40, 'something to look at'],
        [50, 'broken'],
      ],
    )
  })
})
