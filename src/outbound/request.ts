import { lookup } from 'node:dns'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { isPrivateAddress, normalHost } from './addresses.js'
import { inSpan, setSpanAttribute } from '../observability/tracing.js'

/*
 * Every HTTP call Gatehouse makes to a URL someone else chose (a client's
 * metadata document, its back-channel logout URL) goes through here, so that
 * none of them can be turned against Gatehouse's own network (SSRF, OWASP
 * A10:2021): https only, the address connected to checked, no redirects
 * followed, bounded in time and size. Only hosts the operator allows may be
 * internal, or called over plain http.
 */

export interface OutboundCall {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** The whole call, connection included. */
  timeoutMs: number
  /** The most of the answer's body that is read; with 0 none is (only the status matters). */
  maxBodyBytes: number
  /** The operator's allow-list: `host` or `host:port` entries, lower case. */
  allowedHosts: readonly string[]
}

export interface OutboundAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** Not sent, and never will be: the URL, or every address its host resolves to, is one Gatehouse must not call. */
export class OutboundRefused extends Error {
  override readonly name = 'OutboundRefused'
}

/** Tried, and failed: the network, the time limit or the size limit. Another try may succeed. */
export class OutboundFailed extends Error {
  override readonly name = 'OutboundFailed'
}

function isAllowedHost(host: string, port: string, allowed: readonly string[]): boolean {
  const name = isIP(host) === 6 ? `[${host}]` : host
  return allowed.includes(name) || allowed.includes(`${name}:${port}`)
}

/**
 * A DNS lookup that drops private addresses. It is the connection's own
 * lookup, so the address checked is the address connected to: a name cannot
 * resolve to a public address for a check and a private one for the
 * connection (DNS rebinding).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const usable = allowPrivate ? addresses : addresses.filter((a) => !isPrivateAddress(a.address))
      if (usable.length === 0) return callback(new OutboundRefused(`${hostname} resolves only to private or loopback addresses`), '', 0)
      if (options.all) return (callback as unknown as (e: null, a: typeof usable) => void)(null, usable)
      callback(null, usable[0]!.address, usable[0]!.family)
    })
  }
}

/** Makes one call to `target`; a redirect is answered as it is, never followed. */
export function callOut(target: string | URL, call: OutboundCall): Promise<OutboundAnswer> {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return Promise.reject(new OutboundRefused('the URL cannot be parsed'))
  }
  const host = normalHost(url.hostname)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const allowed = isAllowedHost(host, port, call.allowedHosts)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed))
    return Promise.reject(new OutboundRefused(`${url.protocol} URLs are not called; use https`))
  // An address literal is connected to without a lookup, so it is checked here.
  if (!allowed && isIP(host) !== 0 && isPrivateAddress(host)) return Promise.reject(new OutboundRefused(`${host} is a private or loopback address`))

  // The host and port only: the path and query of a URL someone else chose may carry anything.
  const attributes = { 'http.request.method': call.method, 'server.address': host, 'server.port': Number(port) }
  return inSpan(`${call.method}`, attributes, () => send(url, host, port, allowed, call), 'client')
}

function send(url: URL, host: string, port: string, allowed: boolean, call: OutboundCall): Promise<OutboundAnswer> {
  return new Promise((resolve, reject) => {
    // Settled once; after that the request is torn down without an error, so nothing is left unhandled.
    let settled = false
    const finish = (outcome: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      outcome()
      req.destroy()
    }
    const fail = (message: string) => finish(() => reject(new OutboundFailed(message)))
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(
      {
        protocol: url.protocol,
        hostname: host,
        port,
        path: `${url.pathname}${url.search}`,
        method: call.method,
        // A length rather than chunks: not every receiver reads a chunked form body.
        headers: call.body === undefined ? call.headers : { ...call.headers, 'content-length': String(Buffer.byteLength(call.body)) },
        lookup: guardedLookup(allowed),
        // A connection of its own each time: nothing pooled outlives the checks made for this call.
        agent: false,
      },
      (res) => {
        setSpanAttribute('http.response.status_code', res.statusCode ?? 0)
        const answer = (body: Buffer) => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        if (call.maxBodyBytes === 0) return answer(Buffer.alloc(0))
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > call.maxBodyBytes) return fail(`the answer is larger than ${call.maxBodyBytes} bytes`)
          chunks.push(chunk)
        })
        res.on('error', () => fail('the answer could not be read'))
        res.on('end', () => answer(Buffer.concat(chunks)))
      },
    )
    const deadline = setTimeout(() => fail(`the answer did not arrive within ${call.timeoutMs / 1000} s`), call.timeoutMs)
    req.on('error', (err) => finish(() => reject(err instanceof OutboundRefused ? err : new OutboundFailed(err.message))))
    req.end(call.body)
  })
}
