/**
 * Dead and failing targets: retries on another target, passive ejection,
 * active health checks, failover to a fallback backend, and the limits on
 * all of them (non-idempotent requests, the ejection cap, attempts).
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deadPort, startBackend, type Backend } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'
import { admin } from '../helpers/admin.js'
import type { Upstream } from '../../src/proxy/upstreams.js'

/** A backend whose answers the test controls: status per path, and a health endpoint. */
async function controllable (name: string): Promise<{ url: string, server: Server, status: number, health: number, hits: number, close: () => void }> {
  const b = {
    url: '',
    status: 200,
    health: 200,
    hits: 0,
    server: createServer((req, res) => {
      if (req.url === '/healthz') { res.writeHead(b.health).end(); return }
      b.hits++
      req.resume()
      req.on('end', () => res.writeHead(b.status, { 'x-backend': name }).end(`${name} ${req.method ?? ''}`))
    }),
    close: () => { b.server.closeAllConnections(); b.server.close() }
  }
  b.server.listen(0, '127.0.0.1')
  await once(b.server, 'listening')
  b.url = `http://127.0.0.1:${(b.server.address() as AddressInfo).port}`
  return b
}

let good: Backend
t.before(async () => { good = await startBackend('good') })
t.teardown(() => good.close())

t.test('a dead target: every GET and POST still succeeds (retried), and the target is ejected', async t => {
  const dead = `http://127.0.0.1:${await deadPort()}`
  const p = await startWith({
    backends: { app: { targets: [dead, good.url], outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '1m' } } },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => p.close())
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) {
    statuses.push((await p.get('/')).status)
    statuses.push((await p.send({ path: '/', method: 'POST', body: 'payload' })).status)
  }
  t.same([...new Set(statuses)], [200], 'no request failed')
  const status = await admin<{ backends: Array<{ targets: Array<{ url: string, health: string }> }> }>(p.sy.adminUrl, 'GET', '/admin/status')
  t.same(status.body.backends[0]?.targets.map(x => x.health), ['ejected', 'healthy'])
})

t.test('502/503 answers: idempotent requests retry on another target, others get the answer', async t => {
  const failing = await controllable('failing')
  failing.status = 503
  const p = await startWith({
    backends: { app: { targets: [failing.url, good.url], outlierDetection: false } },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => { failing.close(); return p.close() })
  const gets = await Promise.all(Array.from({ length: 10 }, async () => (await p.get('/')).status))
  t.same([...new Set(gets)], [200], 'GETs retried on the good target')
  const posts: number[] = []
  for (let i = 0; i < 10; i++) posts.push((await p.send({ path: '/', method: 'POST', body: 'x' })).status)
  t.same(posts.sort(), [200, 200, 200, 200, 200, 503, 503, 503, 503, 503], 'POSTs are not replayed: round robin shows the 503s')
})

t.test('retries: false turns them off; a single-target backend passes its 503 through', async t => {
  const failing = await controllable('failing')
  failing.status = 503
  const p = await startWith({
    backends: { app: { targets: [failing.url, good.url], outlierDetection: false }, one: { targets: [failing.url], outlierDetection: false } },
    routes: [
      { name: 'single', match: { path: { prefix: '/single' } }, to: 'one' },
      { name: 'r', to: 'app', retries: false }
    ]
  })
  t.teardown(() => { failing.close(); return p.close() })
  const gets: number[] = []
  for (let i = 0; i < 6; i++) gets.push((await p.get('/')).status)
  t.same(gets.sort(), [200, 200, 200, 503, 503, 503])
  const single = await p.get('/single')
  t.equal(single.status, 503)
  t.equal(single.text, 'failing GET', 'the upstream\'s own answer')
})

t.test('every target of a backend down: its traffic fails over to the fallback', async t => {
  const canary = await controllable('canary')
  const p = await startWith({
    backends: {
      stable: { targets: [good.url] },
      canary: { targets: [canary.url], fallback: 'stable', outlierDetection: { consecutiveFailures: 1, baseEjectionTime: '1m' } },
      lonely: { targets: [canary.url], outlierDetection: { consecutiveFailures: 1, baseEjectionTime: '1m' } }
    },
    routes: [
      { name: 'lonely', match: { path: { prefix: '/lonely' } }, to: 'lonely' },
      { name: 'r', to: 'canary' }
    ]
  })
  t.teardown(() => p.close())
  t.equal((await p.get('/')).text, 'canary GET')
  canary.close()
  const statuses: number[] = []
  const served = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const r = await p.get('/')
    statuses.push(r.status)
    served.add(String(r.headers['x-backend']))
  }
  t.same([...new Set(statuses)], [200], 'no failed request while the canary is down')
  t.same([...served], ['good'], 'served by the fallback (stable)')
  const lonely = await p.get('/lonely')
  t.equal(lonely.status, 503, 'no fallback: 503')
  t.equal(lonely.text, 'no healthy target (backend lonely)\n')
})

t.test('active health checks take a target out and bring it back', async t => {
  const flaky = await controllable('flaky')
  const p = await startWith({
    backends: {
      app: {
        targets: [flaky.url, good.url],
        healthCheck: { path: '/healthz', interval: '50ms', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 2 },
        outlierDetection: false
      }
    },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => { flaky.close(); return p.close() })
  const changed = (): Promise<Upstream> => new Promise(resolve => p.sy.plane?.upstreams.once('health', resolve))

  const down = changed()
  flaky.health = 500
  t.equal((await down).origin, flaky.url)
  const before = flaky.hits
  for (let i = 0; i < 10; i++) t.equal((await p.get('/')).status, 200)
  t.equal(flaky.hits, before, 'an unhealthy target gets no traffic')
  const status = await admin<{ backends: Array<{ targets: Array<{ health: string }> }> }>(p.sy.adminUrl, 'GET', '/admin/status')
  t.same(status.body.backends[0]?.targets.map(x => x.health), ['unhealthy', 'healthy'])

  const up = changed()
  flaky.health = 200
  t.equal((await up).available, true)
  for (let i = 0; i < 10; i++) await p.get('/')
  t.ok(flaky.hits > before, 'back in rotation')
})

t.test('5xx ejection respects maxEjectionPercent; connection failures do not', async t => {
  const a = await controllable('a')
  const b = await controllable('b')
  a.status = 500
  b.status = 500
  const p = await startWith({
    backends: { app: { targets: [a.url, b.url], outlierDetection: { consecutiveFailures: 2, baseEjectionTime: '1m', maxEjectionPercent: 50 } } },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => { a.close(); b.close(); return p.close() })
  for (let i = 0; i < 12; i++) t.equal((await p.get('/')).status, 500, 'app errors pass through')
  const health = async (): Promise<string[]> =>
    (await admin<{ backends: Array<{ targets: Array<{ health: string }> }> }>(p.sy.adminUrl, 'GET', '/admin/status')).body.backends[0]?.targets.map(x => x.health) ?? []
  const h = await health()
  t.same(h.slice().sort(), ['ejected', 'healthy'], 'only half of the targets may be ejected for 5xx')
})
