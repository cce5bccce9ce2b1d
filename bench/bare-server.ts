import Fastify from 'fastify'

// The baseline: the cheapest JSON route Fastify can serve on this machine.
const app = Fastify()
app.get('/bare', async () => ({ object: 'user', id: 1, name: 'Bob Gale' }))
const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`listening ${address}\n`)
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
