/**
 * switchyard_sticky_assignments_total (new users per backend, the A/B
 * denominator) and switchyard_upstream_errors_total by kind, from real
 * failures: a refused port, a backend slower than the route timeout, a
 * backend that drops the connection.
 */
import t from 'tap'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { deadPort, startBackends } from '../helpers/backends.js'
import { scrape } from '../helpers/exposition.js'
import { startWith } from '../helpers/switchyard.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

t.test('a new user is counted once, for the backend the cookie assigned; returning users and header keys are not', async t => {
  const p = await startWith({
    backends: { a: { targets: [stable.url] }, b: { targets: [canary.url] } },
    routes: [
      { name: 'api', match: { host: 'api.test' }, split: { a: 50, b: 50 }, sticky: { header: 'x-user-id' } },
      { name: 'exp', split: { a: 50, b: 50 }, sticky: { cookie: 'sy_id' } }
    ]
  })
  t.teardown(() => p.close())
  const assigned = { a: 0, b: 0 }
  const cookies: string[] = []
  for (let u = 0; u < 30; u++) {
    const r = await p.get('/')
    assigned[r.headers['x-backend'] === 'stable' ? 'a' : 'b']++
    cookies.push(String(r.headers['set-cookie']).split(';')[0] as string)
  }
  // Every user comes back twice with the cookie: no new assignment.
  for (const cookie of cookies) for (let i = 0; i < 2; i++) await p.get('/', { cookie })
  // Header-keyed stickiness sets no cookie, so it assigns nobody.
  for (let u = 0; u < 10; u++) await p.get('/', { host: 'api.test', 'x-user-id': `user-${u}` })

  const m = await scrape(p.sy.adminUrl)
  const expected: Record<string, number> = {}
  if (assigned.a > 0) expected['route=exp,backend=a'] = assigned.a
  if (assigned.b > 0) expected['route=exp,backend=b'] = assigned.b
  t.same(m.table('switchyard_sticky_assignments_total', ['route', 'backend']), expected)
  t.equal(m.sum('switchyard_sticky_assignments_total'), 30)
  t.equal(m.sum('switchyard_requests_total', { route: 'exp' }), 90)
})

t.test('a first response that fails assigns nobody: the user gets a cookie on the next answer', async t => {
  const port = await deadPort()
  const p = await startWith({
    backends: { dead: { targets: [`http://127.0.0.1:${port}`] } },
    routes: [{ name: 'exp', split: { dead: 1 }, sticky: { cookie: 'sy_id' } }]
  })
  t.teardown(() => p.close())
  const r = await p.get('/')
  t.equal(r.status, 502)
  t.equal(r.headers['set-cookie'], undefined)
  t.equal((await scrape(p.sy.adminUrl)).sum('switchyard_sticky_assignments_total'), 0)
})

t.test('upstream errors by kind: connect, timeout, reset; the client sees 502/504 and requests_total says so', async t => {
  const port = await deadPort()
  const dead = `http://127.0.0.1:${port}`
  // Accepts, reads the request, then drops the connection without a byte.
  const dropper = createTcpServer(socket => { socket.once('data', () => socket.destroy()) })
  await new Promise<void>(resolve => dropper.listen(0, '127.0.0.1', () => resolve()))
  const reset = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`
  t.teardown(() => { dropper.close() })

  const p = await startWith({
    backends: {
      dead: { targets: [dead] },
      slow: { version: '3', targets: [stable.url] },
      flaky: { targets: [reset] }
    },
    routes: [
      { name: 'down', match: { host: 'down.test' }, to: 'dead' },
      { name: 'slow', match: { host: 'slow.test' }, to: 'slow', timeout: '200ms' },
      { name: 'flaky', match: { host: 'flaky.test' }, to: 'flaky' }
    ]
  })
  t.teardown(() => p.close())
  for (let i = 0; i < 3; i++) t.equal((await p.get('/', { host: 'down.test' })).status, 502)
  for (let i = 0; i < 2; i++) t.equal((await p.get('/delay/2000', { host: 'slow.test' })).status, 504)
  t.equal((await p.get('/delay/10', { host: 'slow.test' })).status, 200, 'in time: no error')
  t.equal((await p.get('/', { host: 'flaky.test' })).status, 502)

  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_upstream_errors_total', ['route', 'backend', 'target', 'kind']), {
    [`route=down,backend=dead,target=${dead},kind=connect`]: 3,
    [`route=slow,backend=slow,target=${stable.url},kind=timeout`]: 2,
    [`route=flaky,backend=flaky,target=${reset},kind=reset`]: 1
  })
  t.same(m.table('switchyard_requests_total', ['route', 'backend', 'version', 'rule', 'code']), {
    'route=down,backend=dead,version=dead,rule=split,code=502': 3,
    'route=slow,backend=slow,version=3,rule=split,code=504': 2,
    'route=slow,backend=slow,version=3,rule=split,code=200': 1,
    'route=flaky,backend=flaky,version=flaky,rule=split,code=502': 1
  })
})
