/**
 * What never reaches an upstream's exchange is counted too: requests
 * switchyard answers itself (switchyard_rejected_requests_total) and
 * WebSocket handshakes and tunnels (switchyard_websocket_*), read back from
 * GET /metrics after known traffic.
 */
import t from 'tap'
import { once } from 'node:events'
import { connect } from 'node:net'
import { WebSocket } from 'ws'
import { deadPort, startBackends } from '../helpers/backends.js'
import { scrape, scrapeUntil } from '../helpers/exposition.js'
import { rawRequest } from '../helpers/raw.js'
import { startWith } from '../helpers/switchyard.js'
import { startWsBackend } from '../helpers/ws-backend.js'

const { app } = await startBackends(t, 'app')

t.test('requests answered without a backend are counted by reason and code', async t => {
  const p = await startWith({
    listen: { host: '127.0.0.1', port: 0, maxHeaders: 20, headersTimeout: '300ms' },
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'only', match: { host: 'app.test' }, to: 'app' }]
  })
  t.teardown(() => p.close())
  const proxy = p.sy.proxyUrl
  const ok = 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n'

  for (let i = 0; i < 3; i++) t.equal((await p.get('/', { host: 'elsewhere.test' })).status, 404)
  t.equal((await rawRequest(proxy, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).status, 400, 'no Host')
  t.equal((await rawRequest(proxy, 'GET / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx')).status, 400, 'duplicate Content-Length')
  t.equal((await rawRequest(proxy, 'NOT A REQUEST\r\n\r\n')).status, 400, 'bad request line')
  const many = Array.from({ length: 30 }, (_, i) => `X-H${i}: v\r\n`).join('')
  t.equal((await rawRequest(proxy, `GET / HTTP/1.1\r\nHost: app.test\r\n${many}Connection: close\r\n\r\n`)).status, 431, 'too many fields')
  t.equal((await rawRequest(proxy, `GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).status, 431, 'head too large')
  // A head that never ends: 408 once headersTimeout passes.
  const url = new URL(proxy)
  const slow = connect(Number(url.port), '127.0.0.1', () => { slow.write('GET / HTTP/1.1\r\nHost: app.test\r\n') })
  let answer = ''
  slow.setEncoding('latin1').on('data', (d: string) => { answer += d })
  await once(slow, 'close')
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.equal((await rawRequest(proxy, ok)).status, 200, 'served normally afterwards')

  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_rejected_requests_total', ['reason', 'code']), {
    'reason=no_route,code=404': 3,
    'reason=malformed,code=400': 3,
    'reason=headers_too_large,code=431': 2,
    'reason=timeout,code=408': 1
  })
  t.equal(m.sum('switchyard_requests_total'), 1, 'only the routed request is a proxied response')
})

async function open (url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers })
  const [first] = await once(ws, 'message') as [Buffer]
  ws.on('error', () => {})
  ;(ws as WebSocket & { version?: string }).version = String(first)
  return ws
}

t.test('websocket handshakes by code, and open tunnels per route and backend', async t => {
  const v5 = await startWsBackend(ws => ws.send('0.5'))
  const v6 = await startWsBackend(ws => ws.send('0.6'))
  const dead = `http://127.0.0.1:${await deadPort()}`
  const p = await startWith({
    backends: {
      stable: { version: '0.5', targets: [v5.url] },
      canary: { version: '0.6', targets: [v6.url] },
      gone: { version: '0.7', targets: [dead], outlierDetection: false }
    },
    routes: [
      { name: 'broken', match: { path: { prefix: '/broken' } }, to: 'gone', retries: false },
      { name: 'chat', rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }], to: 'stable' }
    ]
  })
  t.teardown(async () => { await p.close(); await v5.close(); await v6.close() })
  const base = p.sy.proxyUrl.replace('http:', 'ws:')

  const a = await open(`${base}/chat`)
  const b = await open(`${base}/chat`)
  const c = await open(`${base}/chat`, { 'x-canary': 'always' })
  t.same([a, b, c].map(ws => (ws as WebSocket & { version?: string }).version), ['0.5', '0.5', '0.6'])
  const refused = new WebSocket(`${base}/broken`)
  refused.on('error', () => {})
  const [, res] = await once(refused, 'unexpected-response') as [unknown, { statusCode: number }]
  t.equal(res.statusCode, 502)

  let m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_websocket_upgrades_total', ['route', 'backend', 'version', 'code']), {
    'route=chat,backend=stable,version=0.5,code=101': 2,
    'route=chat,backend=canary,version=0.6,code=101': 1,
    'route=broken,backend=gone,version=0.7,code=502': 1
  })
  t.same(m.table('switchyard_websocket_connections_active', ['route', 'backend']), {
    'route=chat,backend=stable': 2,
    'route=chat,backend=canary': 1,
    'route=broken,backend=gone': 0
  })
  t.equal(m.sum('switchyard_requests_total'), 0, 'upgrades are not request/response exchanges')

  a.close()
  c.close()
  m = await scrapeUntil(p.sy.adminUrl, s => s.sum('switchyard_websocket_connections_active') === 1)
  t.same(m.table('switchyard_websocket_connections_active', ['route', 'backend']), {
    'route=chat,backend=stable': 1,
    'route=chat,backend=canary': 0,
    'route=broken,backend=gone': 0
  })
  b.close()
  await scrapeUntil(p.sy.adminUrl, s => s.sum('switchyard_websocket_connections_active') === 0)
})
