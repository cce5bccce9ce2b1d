import assert from 'node:assert/strict'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { callOut, OutboundFailed, OutboundRefused, type OutboundCall } from './request.js'

const listen = async <T extends Server | HttpServer>(server: T): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

describe('the outbound client: calls made on someone else’s say-so (OWASP A10:2021, SSRF)', () => {
  /** A bare TCP listener on loopback that counts connections: a refused call must not even open one. */
  let probe: Server
  let probePort = 0
  let connections = 0
  let web: HttpServer
  let webPort = 0
  const call = (extra: Partial<OutboundCall> = {}): OutboundCall => ({ method: 'GET', timeoutMs: 1_000, maxBodyBytes: 1_000, allowedHosts: [], ...extra })

  before(async () => {
    probe = createServer((socket) => {
      connections += 1
      socket.destroy()
    })
    probePort = await listen(probe)
    web = createHttpServer((req, res) => {
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/elsewhere' }).end()
      if (req.url === '/big') return void res.writeHead(200).end('x'.repeat(5_000))
      if (req.url === '/slow') return
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => res.writeHead(200).end(`${req.method} ${body}`))
    })
    webPort = await listen(web)
  })
  after(async () => {
    web.closeAllConnections()
    await new Promise((resolve) => web.close(resolve))
    await new Promise((resolve) => probe.close(resolve))
  })

  it('refuses loopback, private, link-local and IPv4-mapped address literals before connecting', async () => {
    for (const host of [
      '127.0.0.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '2130706433',
      '127.0.0.1.',
      '10.0.0.5',
      '169.254.169.254',
      '[fd00:ec2::254]',
      '100.64.0.1',
    ]) {
      await assert.rejects(callOut(`https://${host}:${probePort}/x`, call()), OutboundRefused, host)
    }
    assert.equal(connections, 0)
  })

  it('refuses at connection time a name that resolves to loopback, the trailing-dot form too', async () => {
    for (const host of ['localhost', 'localhost.', 'LOCALHOST..']) {
      await assert.rejects(
        callOut(`https://${host}:${probePort}/x`, call()),
        (err: Error) => err instanceof OutboundRefused && /resolves only to private/.test(err.message),
        host,
      )
    }
    assert.equal(connections, 0)
  })

  it('refuses plain http unless the operator allows the host', async () => {
    await assert.rejects(callOut('http://public.example/x', call()), OutboundRefused)
    await assert.rejects(callOut('ftp://public.example/x', call()), OutboundRefused)
  })

  it('calls a host the operator allows, by host or by host and port, and no other port of it', async () => {
    const post = call({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=t' })
    assert.equal((await callOut(`http://127.0.0.1:${webPort}/`, { ...post, allowedHosts: ['127.0.0.1'] })).body.toString(), 'POST logout_token=t')
    assert.equal((await callOut(`http://127.0.0.1:${webPort}/`, { ...post, allowedHosts: [`127.0.0.1:${webPort}`] })).status, 200)
    assert.equal((await callOut(`http://localhost.:${webPort}/`, { ...post, allowedHosts: ['localhost'] })).status, 200, 'the trailing dot is the same host')
    await assert.rejects(callOut(`http://127.0.0.1:${probePort}/`, { ...post, allowedHosts: [`127.0.0.1:${webPort}`] }), OutboundRefused)
    assert.equal(connections, 0)
  })

  it('answers a redirect as it is, never following it', async () => {
    const answer = await callOut(`http://127.0.0.1:${webPort}/redirect`, call({ allowedHosts: ['127.0.0.1'] }))
    assert.equal(answer.status, 302)
    assert.equal(answer.headers.location, '/elsewhere')
  })

  it('bounds the answer in size and in time', async () => {
    const allowed = call({ allowedHosts: ['127.0.0.1'], timeoutMs: 300 })
    await assert.rejects(
      callOut(`http://127.0.0.1:${webPort}/big`, allowed),
      (err: Error) => err instanceof OutboundFailed && /larger than 1000 bytes/.test(err.message),
    )
    await assert.rejects(
      callOut(`http://127.0.0.1:${webPort}/slow`, allowed),
      (err: Error) => err instanceof OutboundFailed && /within 0.3 s/.test(err.message),
    )
    assert.equal((await callOut(`http://127.0.0.1:${webPort}/big`, { ...allowed, maxBodyBytes: 0 })).status, 200, 'with no body read, only the status counts')
  })
})
