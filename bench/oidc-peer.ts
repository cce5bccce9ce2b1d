import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JWK } from 'jose'
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider'

/*
 * The leading Node.js peer, configured like Gatehouse: RS256 JWT access
 * tokens (through a resource indicator), refresh-token rotation,
 * client_secret_basic, client credentials. Its default store keeps 1,000 entries, too few for a
 * benchmark that mints tokens in advance, so it gets a plain in-memory
 * adapter, indexed by grant as its database adapters are. BENCH_PEER_OUT names the file the pre-minted codes and refresh
 * tokens (some kept apart for revocation) are written to.
 */

interface Store {
  entries: Map<string, AdapterPayload>
  /** The ids of each grant, as a real adapter indexes them: revoking a grant costs its own entries, not a scan of the store. */
  byGrant: Map<string, Set<string>>
}

const stores = new Map<string, Store>()

class MemoryAdapter implements Adapter {
  private readonly store: Store
  constructor(name: string) {
    this.store = stores.get(name) ?? { entries: new Map(), byGrant: new Map() }
    stores.set(name, this.store)
  }
  async upsert(id: string, payload: AdapterPayload): Promise<void> {
    this.store.entries.set(id, payload)
    if (payload.grantId) {
      const ids = this.store.byGrant.get(payload.grantId) ?? new Set()
      ids.add(id)
      this.store.byGrant.set(payload.grantId, ids)
    }
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.entries.get(id)
  }
  async findByUserCode(): Promise<undefined> {
    return undefined
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const p of this.store.entries.values()) if (p.uid === uid) return p
    return undefined
  }
  async consume(id: string): Promise<void> {
    const p = this.store.entries.get(id)
    if (p) p.consumed = Math.floor(Date.now() / 1000)
  }
  async destroy(id: string): Promise<void> {
    this.store.entries.delete(id)
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    for (const id of this.store.byGrant.get(grantId) ?? []) this.store.entries.delete(id)
    this.store.byGrant.delete(grantId)
  }
}

const CLIENT = { client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret', redirect_uris: ['https://bench.example/cb'] }
// Its client_credentials tokens are JWTs for the resource, as Gatehouse's are.
const SERVICE_CLIENT = { client_id: 'bench-service', client_secret: 'bench-service-secret-bench-service-secret' }
const RESOURCE = 'urn:gatehouse:bench'
const COUNT = Number(process.env.BENCH_PEER_TOKENS ?? 40_000)
const REVOCABLE = Number(process.env.BENCH_PEER_REVOCABLE ?? COUNT)

const { privateKey } = await generateKeyPair('RS256', { extractable: true })
const privateJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' } as JWK

const issuer = 'http://127.0.0.1'
const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  cookies: { keys: ['bench-cookie-key-bench-cookie-key'] },
  clients: [
    { ...CLIENT, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    {
      ...SERVICE_CLIENT,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api',
    },
  ],
  // The resource's scope, which the service client may ask for.
  scopes: ['openid', 'offline_access', 'api'],
  jwks: { keys: [privateJwk as never] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', accessTokenFormat: 'jwt', accessTokenTTL: 31_536_000, jwt: { sign: { alg: 'RS256' } } }),
    },
  },
  pkce: { required: () => false },
  rotateRefreshToken: true,
  issueRefreshToken: async () => true,
  ttl: { AccessToken: 31_536_000, AuthorizationCode: 600, RefreshToken: 63_072_000, Grant: 63_072_000 },
})

async function newGrant(): Promise<string> {
  const grant = new provider.Grant({ accountId: 'user-1', clientId: CLIENT.client_id })
  grant.addResourceScope(RESOURCE, 'api')
  return grant.save()
}

async function newRefreshToken(grantId: string): Promise<string> {
  const refresh = new provider.RefreshToken({
    accountId: 'user-1',
    client: await provider.Client.find(CLIENT.client_id),
    grantId,
    scope: 'api',
    resource: RESOURCE,
    gty: 'authorization_code',
  } as never)
  return refresh.save()
}

const codes: string[] = []
const refreshTokens: string[] = []
for (let i = 0; i < COUNT; i++) {
  const grantId = await newGrant()
  const code = new provider.AuthorizationCode({
    accountId: 'user-1',
    clientId: CLIENT.client_id,
    grantId,
    redirectUri: CLIENT.redirect_uris[0],
    scope: 'api',
    resource: RESOURCE,
  } as never)
  codes.push(await code.save())
  refreshTokens.push(await newRefreshToken(grantId))
}
const revocable: string[] = []
for (let i = 0; i < REVOCABLE; i++) revocable.push(await newRefreshToken(await newGrant()))

// "A JWT check beside the provider": what a resource server of oidc-provider does per request.
const jwks = createLocalJWKSet({ keys: [{ ...privateJwk, d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined }] as JWK[] })
const callback = provider.callback()
const server = createServer((req, res) => {
  if (req.url === '/jwt-check') {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '')
    jwtVerify(token, jwks, { issuer }).then(
      ({ payload }) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ sub: payload.sub }))
      },
      () => {
        res.writeHead(401)
        res.end()
      },
    )
    return
  }
  void callback(req, res)
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  writeFileSync(
    process.env.BENCH_PEER_OUT!,
    JSON.stringify({ codes, refreshTokens, revocable, client: CLIENT, serviceClient: SERVICE_CLIENT, redirectUri: CLIENT.redirect_uris[0] }),
  )
  process.stdout.write(`listening http://127.0.0.1:${port}\n`)
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
