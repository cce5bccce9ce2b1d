import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Ajv } from 'ajv'
import Fastify, { type FastifySchemaCompiler } from 'fastify'
import { compiledOnFirstUse, compilersOnFirstUse } from './schema-compilers.js'

describe('schemas compiled on first use', () => {
  it('compiles a validator at its first call, once, and carries its errors as Fastify reads them', () => {
    const ajv = new Ajv()
    let compiled = 0
    const compile: FastifySchemaCompiler<object> = ({ schema }) => {
      compiled++
      return ajv.compile(schema)
    }
    const validate = compiledOnFirstUse(compile)({ schema: { type: 'object', required: ['name'] }, method: 'POST', url: '/', httpPart: 'body' })
    assert.equal(compiled, 0)
    assert.equal(validate({}), false)
    assert.equal((validate as unknown as { errors: { keyword: string }[] }).errors[0]!.keyword, 'required')
    assert.equal(validate({ name: 'x' }), true)
    assert.equal((validate as unknown as { errors: unknown }).errors, null)
    assert.equal(compiled, 1)
  })

  it('validates and serializes through Fastify as its own compilers do', async () => {
    const app = Fastify({ schemaController: { compilersFactory: compilersOnFirstUse } })
    app.post(
      '/things',
      {
        schema: {
          body: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
          querystring: { type: 'object', properties: { limit: { type: 'integer', default: 10 } } },
          response: { 200: { type: 'object', properties: { count: { type: 'integer' }, limit: { type: 'integer' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), ...(request.query as object), secret: 'left out by the response schema' }),
    )
    try {
      const ok = await app.inject({ method: 'POST', url: '/things?limit=5', payload: { count: 2 } })
      assert.equal(ok.statusCode, 200)
      assert.deepEqual(ok.json(), { count: 2, limit: 5 })
      const refused = await app.inject({ method: 'POST', url: '/things', payload: { count: 'many' } })
      assert.equal(refused.statusCode, 400)
      assert.match(refused.json().message, /body\/count must be integer/)
    } finally {
      await app.close()
    }
  })

  it("compiles nothing before a route's first request: a schema that cannot compile fails that route alone, when asked", async () => {
    const app = Fastify({ schemaController: { compilersFactory: compilersOnFirstUse }, logger: false })
    app.post('/broken-body', { schema: { body: { type: 'object', properties: { n: { type: 'no such type' } } } } }, async () => ({}))
    app.get('/broken-response', { schema: { response: { 200: { $ref: 'nowhere#' } } } }, async () => ({}))
    app.get('/fine', async () => ({ ok: true }))
    try {
      // Fastify's own compilers would refuse both schemas here, before listening.
      await app.ready()
      assert.equal((await app.inject({ method: 'GET', url: '/fine' })).statusCode, 200)
      assert.equal((await app.inject({ method: 'POST', url: '/broken-body', payload: { n: 1 } })).statusCode, 500)
      assert.equal((await app.inject({ method: 'GET', url: '/broken-response' })).statusCode, 500)
    } finally {
      await app.close()
    }
  })
})
