/**
 * The data path through real sockets: the split follows each request's draw, stickiness by cookie
 * and header, forwarded headers, hop-by-hop handling, errors (404, 502, 504).
 */
import t from 'tap'
import { request } from 'undici'
import { deadPort, startBackends, type EchoReply } from '../helpers/backends.js'
import { rawRequest } from '../helpers/raw.js'
import { startWith, type Running } from '../helpers/switchyard.js'
import { evenEntropy, fixedEntropy, tableOf, view } from '../helpers/tables.js'
import { decide } from '../../src/routing/decide.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

function backends (): Record<string, unknown> {
  return { stable: { version: '0.5', targets: [stable.url] }, canary: { version: '0.6', targets: [canary.url] } }
}

async function running (routes: unknown[], extra: Record<string, unknown> = {}): Promise<Running> {
  return await startWith({ backends: backends(), routes, ...extra })
}

function countBy (names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const n of names) out[n] = (out[n] ?? 0) + 1
  return out
}

t.test('a weighted split: each new request\'s draw picks its backend, 100 even draws give exactly 70/30', async t => {
  // How uniform draws spread by the weights is proven without sockets (test/routing/weighted.test.ts);
  // here the draws are known, so the proxy's split has an exact count.
  const p = await startWith({ backends: backends(), routes: [{ name: 'r', split: { stable: 70, canary: 30 } }] }, { entropy: evenEntropy(100) })
  t.teardown(() => p.close())
  const names: string[] = []
  const batch = 50
  for (let i = 0; i < 100; i += batch) {
    const replies = await Promise.all(Array.from({ length: batch }, async () => await p.get('/')))
    for (const r of replies) names.push(String(r.headers['x-backend']))
  }
  const counts = countBy(names)
  t.equal(names.length, 100)
  t.equal(counts.stable, 70, 'stable answered the 70 draws below 0.7')
  t.equal(counts.canary, 30, 'canary answered the 30 draws from 0.7 on')
})

t.test('cookie stickiness: a new user gets a cookie and keeps one version', async t => {
  const route = { name: 'r', split: { stable: 50, canary: 50 }, sticky: { cookie: 'sy_id', maxAge: '1h' } }
  const p = await running([route])
  t.teardown(() => p.close())
  const first = await p.get('/')
  const setCookie = String(first.headers['set-cookie'])
  t.match(setCookie, /^sy_id=[0-9a-f-]{36}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/)
  const cookie = setCookie.split(';')[0] as string
  const seen = new Set<string>()
  for (let i = 0; i < 50; i++) {
    const r = await p.get('/', { cookie })
    seen.add(String(r.headers['x-backend']))
    t.equal(r.headers['set-cookie'], undefined, 'no new cookie for a known user')
  }
  t.same([...seen], [String(first.headers['x-backend'])], 'every request of the user went to the first backend')

  // Many users: the proxy sends each where decide() sends their id, and those ids spread by the
  // weights (decide() needs no sockets, so the spread is counted over 2000 users without them).
  const table = tableOf({ backends: backends(), routes: [route] })
  const decided = (u: number): string => decide(table, view({ cookies: { sy_id: `user-${u}` } }), fixedEntropy())?.backend.name ?? 'none'
  const perUser: string[] = []
  for (let u = 0; u < 200; u++) {
    const r = await p.get('/', { cookie: `sy_id=user-${u}` })
    perUser.push(String(r.headers['x-backend']))
  }
  t.same(perUser, Array.from({ length: 200 }, (_, u) => decided(u)), 'each of 200 users lands where decide() says')
  const counts = countBy(Array.from({ length: 2000 }, (_, u) => decided(u)))
  t.ok(Math.abs((counts.canary ?? 0) / 2000 - 0.5) <= 0.04, `canary users ${(counts.canary ?? 0) / 2000}`)
  const again = await p.get('/', { cookie: 'sy_id=user-7' })
  t.equal(again.headers['x-backend'], perUser[7])
})

t.test('header stickiness: keyed by x-user-id, no cookie set', async t => {
  const p = await running([{ name: 'r', split: { stable: 50, canary: 50 }, sticky: { header: 'x-user-id' } }])
  t.teardown(() => p.close())
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const first = await p.get('/', { 'x-user-id': user })
    t.equal(first.headers['set-cookie'], undefined)
    for (let i = 0; i < 10; i++) {
      const r = await p.get('/', { 'x-user-id': user })
      t.equal(r.headers['x-backend'], first.headers['x-backend'], `${user} request ${i}`)
    }
  }
})

t.test('the same user gets the same version on two independent instances', async t => {
  const route = { name: 'r', split: { stable: 50, canary: 50 }, sticky: { cookie: 'sy_id' } }
  const a = await running([route])
  const b = await running([route])
  t.teardown(async () => { await a.close(); await b.close() })
  for (let u = 0; u < 200; u++) {
    const cookie = `sy_id=replica-user-${u}`
    const [ra, rb] = await Promise.all([a.get('/', { cookie }), b.get('/', { cookie })])
    if (ra.headers['x-backend'] !== rb.headers['x-backend']) {
      t.fail(`user ${u}: ${String(ra.headers['x-backend'])} vs ${String(rb.headers['x-backend'])}`)
      return
    }
  }
  t.pass('200 users agree across instances')
})

t.test('rules route by header, cookie and user agent through the proxy', async t => {
  const p = await running([{
    name: 'r',
    rules: [
      { name: 'beta-header', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' },
      { name: 'opt-out', when: { cookies: { canary: { exact: 'never' } } }, to: 'stable' },
      { name: 'mobile', when: { userAgent: { regex: 'Android|iPhone' } }, to: 'canary' },
      { name: 'query', when: { query: { variant: { exact: 'b' } } }, to: 'canary' }
    ],
    to: 'stable'
  }])
  t.teardown(() => p.close())
  t.equal((await p.get('/', { 'x-canary': 'always' })).headers['x-backend'], 'canary')
  t.equal((await p.get('/', { 'x-canary': 'always', cookie: 'canary=never' })).headers['x-backend'], 'canary', 'first rule wins')
  t.equal((await p.get('/', { cookie: 'a=1; canary=never', 'user-agent': 'iPhone' })).headers['x-backend'], 'stable')
  t.equal((await p.get('/', { 'user-agent': 'Mozilla/5.0 (Linux; Android 14)' })).headers['x-backend'], 'canary')
  t.equal((await p.get('/?x=1&variant=b')).headers['x-backend'], 'canary')
  t.equal((await p.get('/?variant=a')).headers['x-backend'], 'stable')
  t.equal((await p.get('/', { cookie: 'canary=%E0%A4%A' })).headers['x-backend'], 'stable', 'undecodable cookie bytes are harmless')
})

t.test('routes by host, path and method; no route is a 404 that says so', async t => {
  const p = await running([
    { name: 'api', match: { host: 'api.example.com', path: { prefix: '/v2/' }, methods: ['GET', 'POST'] }, to: 'canary' },
    { name: 'static', match: { path: { regex: '^/static/.+\\.css$' } }, to: 'stable' }
  ])
  t.teardown(() => p.close())
  t.equal((await p.get('/v2/users', { host: 'API.example.com:8080' })).headers['x-backend'], 'canary')
  t.equal((await p.get('/static/site.css')).headers['x-backend'], 'stable')
  const miss = await p.get('/v1/users', { host: 'api.example.com' })
  t.equal(miss.status, 404)
  t.equal(miss.text, 'no route matches this request\n')
  const wrongMethod = await p.send({ path: '/v2/users', method: 'DELETE', headers: { host: 'api.example.com' } })
  t.equal(wrongMethod.status, 404)
})

t.test('forwarded request: method, path, query, body, X-Forwarded-*, no hop-by-hop headers', async t => {
  const p = await running([{ name: 'r', to: 'stable' }])
  t.teardown(() => p.close())
  const r = await rawRequest(p.sy.proxyUrl, [
    'PUT /some/path?a=1&b=%20x HTTP/1.1',
    'Host: app.example.com',
    'X-Forwarded-For: 203.0.113.7',
    'X-Forwarded-Proto: https',
    'X-Custom: kept',
    'Connection: close, x-secret',
    'X-Secret: hop-by-hop because Connection lists it',
    'Keep-Alive: timeout=5',
    'Proxy-Authorization: Basic abc',
    'TE: trailers',
    'Content-Length: 10',
    '', 'hello body'
  ].join('\r\n'))
  t.equal(r.status, 200)
  const echo = JSON.parse(r.body) as EchoReply
  t.equal(echo.method, 'PUT')
  t.equal(echo.url, '/some/path?a=1&b=%20x')
  t.equal(echo.bodyLength, 10)
  t.equal(echo.headers.host, 'app.example.com', 'Host is preserved')
  t.equal(echo.headers['x-custom'], 'kept')
  t.equal(echo.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'client address appended')
  t.equal(echo.headers['x-forwarded-proto'], 'http', 'untrusted X-Forwarded-Proto is replaced')
  t.equal(echo.headers['x-forwarded-host'], 'app.example.com')
  for (const h of ['x-secret', 'keep-alive', 'proxy-authorization', 'te']) t.equal(echo.headers[h], undefined, `${h} is not forwarded`)
  t.not(echo.headers.connection, 'close, x-secret')
  t.equal(r.headers['x-switchyard-backend'], undefined, 'the backend header is off by default')
})

t.test('trustForwarded keeps X-Forwarded-Proto/-Host; backendHeader names the backend', async t => {
  const p = await running([{ name: 'r', to: 'canary' }], { proxy: { trustForwarded: true, backendHeader: 'X-Switchyard-Backend' } })
  t.teardown(() => p.close())
  const r = await p.get('/', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example.com' })
  const echo = r.json<EchoReply>()
  t.equal(echo.headers['x-forwarded-proto'], 'https')
  t.equal(echo.headers['x-forwarded-host'], 'public.example.com')
  t.equal(r.headers['x-switchyard-backend'], 'canary')
})

t.test('response hop-by-hop headers are dropped, others pass', async t => {
  const { createServer } = await import('node:http')
  const server = createServer((_req, res) => {
    res.writeHead(200, ['x-app', 'yes', 'connection', 'keep-alive', 'keep-alive', 'timeout=9', 'set-cookie', 'a=1', 'set-cookie', 'b=2'])
    res.end('ok')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as import('node:net').AddressInfo).port
  const p = await startWith({ backends: { one: { targets: [`http://127.0.0.1:${port}`] } }, routes: [{ name: 'r', to: 'one' }] })
  t.teardown(async () => { await p.close(); server.close() })
  const r = await p.get('/')
  t.equal(r.headers['x-app'], 'yes')
  t.same(r.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers stay separate')
  t.not(r.headers['keep-alive'], 'timeout=9', 'the upstream Keep-Alive is not relayed')
})

t.test('a dead target answers 502 and the process keeps serving', async t => {
  const port = await deadPort()
  const p = await startWith({
    backends: { dead: { targets: [`http://127.0.0.1:${port}`] }, stable: { targets: [stable.url] } },
    routes: [{ name: 'r', rules: [{ name: 'to-dead', when: { headers: { 'x-dead': { present: true } } }, to: 'dead' }], to: 'stable' }]
  })
  t.teardown(() => p.close())
  for (let i = 0; i < 3; i++) {
    const r = await p.get('/', { 'x-dead': '1' })
    t.equal(r.status, 502)
    t.equal(r.text, 'upstream unavailable (backend dead)\n')
  }
  t.equal((await p.get('/')).status, 200, 'the next normal request succeeds')
})

t.test('a target slower than the route timeout answers 504', async t => {
  const p = await running([{ name: 'r', to: 'stable', timeout: '200ms' }])
  t.teardown(() => p.close())
  const r = await p.get('/delay/3000')
  t.equal(r.status, 504)
  t.equal(r.text, 'upstream timed out (backend stable)\n')
  t.equal((await p.get('/delay/10')).status, 200)
})

t.test('upstream status codes pass through unchanged', async t => {
  const p = await running([{ name: 'r', to: 'stable' }])
  t.teardown(() => p.close())
  for (const code of [201, 204, 301, 404, 500, 503]) {
    const r = await p.get(`/status/${code}`)
    t.equal(r.status, code)
  }
})

t.test('absolute-form request targets are forwarded in origin form', async t => {
  const p = await running([{ name: 'r', to: 'stable' }])
  t.teardown(() => p.close())
  const r = await rawRequest(p.sy.proxyUrl, 'GET http://app.example.com/abs?q=1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n')
  t.equal(r.status, 200, r.raw)
  t.equal((JSON.parse(r.body) as EchoReply).url, '/abs?q=1')
})

t.test('HEAD requests get headers and no body', async t => {
  const p = await running([{ name: 'r', to: 'stable' }])
  t.teardown(() => p.close())
  const res = await request(p.sy.proxyUrl + '/', { method: 'HEAD', dispatcher: p.client })
  t.equal(res.statusCode, 200)
  t.equal(await res.body.text(), '')
})
