import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Refusal } from '../messages.js'
import { triage } from './errors.js'

const isRefusal = (error: unknown): error is Refusal => error instanceof Refusal

it('sorts every failure once: own error, database down, refused by Fastify, or an internal failure', () => {
  const own = new Refusal('not_found', 404)
  assert.deepEqual(triage(own, isRefusal), { kind: 'own', error: own })
  assert.deepEqual(triage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), isRefusal), { kind: 'unavailable' })
  assert.deepEqual(triage(Object.assign(new Error('Connection terminated unexpectedly')), isRefusal), { kind: 'unavailable' })
  const invalidBody = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' })
  assert.deepEqual(triage(invalidBody, isRefusal), {
    kind: 'rejected',
    status: 400,
    code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    message: 'Body is not valid JSON',
    validation: false,
  })
  const schema = Object.assign(new Error('querystring/limit must be integer'), { statusCode: 400, code: 'FST_ERR_VALIDATION', validation: [] })
  assert.equal((triage(schema, isRefusal) as { validation: boolean }).validation, true)
  assert.deepEqual(triage(new TypeError('x is undefined'), isRefusal), { kind: 'failed' })
  assert.deepEqual(
    triage(Object.assign(new Error('upstream'), { statusCode: 502 }), isRefusal),
    { kind: 'failed' },
    "a 5xx from a library is ours to log, not the caller's to read",
  )
  assert.deepEqual(triage('thrown string', isRefusal), { kind: 'failed' })
})
