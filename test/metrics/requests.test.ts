/**
 * switchyard_requests_total, switchyard_request_duration_seconds and
 * switchyard_requests_in_flight after known traffic through a real
 * switchyard to real backends, read back from GET /metrics.
 */
import t from 'tap'
import { connect } from 'node:net'
import { startBackends } from '../helpers/backends.js'
import { scrape, scrapeUntil } from '../helpers/exposition.js'
import { startWith, type Running } from '../helpers/switchyard.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

const REQUEST_LABELS = ['route', 'backend', 'version', 'rule', 'method', 'code'] as const

async function running (): Promise<Running> {
  return await startWith({
    backends: { stable: { version: '1.0', targets: [stable.url] }, canary: { version: '1.1', targets: [canary.url] } },
    routes: [
      {
        name: 'api',
        match: { host: 'api.test' },
        rules: [{ name: 'beta', when: { headers: { 'x-beta': { exact: '1' } } }, to: 'canary' }],
        to: 'stable'
      },
      { name: 'web', split: { stable: 50, canary: 50 } }
    ]
  })
}

async function times (n: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i++) await fn()
}

t.test('requests_total counts every response by route, backend, version, rule, method and code', async t => {
  const p = await running()
  t.teardown(() => p.close())
  const api = { host: 'api.test' }
  const beta = { ...api, 'x-beta': '1' }
  await times(7, () => p.get('/status/200', api))
  await times(3, () => p.get('/status/503', api))
  await times(4, () => p.send({ path: '/items', method: 'POST', headers: beta, body: 'x'.repeat(100) }))
  await times(2, () => p.send({ path: '/items/1', method: 'DELETE', headers: beta }))
  await times(1, () => p.send({ path: '/x', method: 'HEAD', headers: api }))
  await times(1, () => p.send({ path: '/x', method: 'OPTIONS', headers: api }))
  await times(2, () => p.send({ path: '/x', method: 'PROPFIND', headers: api }))
  await times(2, () => p.get('/status/404', beta))
  // The split is random: count where each request went, from the backends' own header.
  const web = { stable: 0, canary: 0 }
  for (let i = 0; i < 40; i++) {
    const r = await p.get('/anything')
    web[r.headers['x-backend'] as 'stable' | 'canary']++
  }

  const m = await scrape(p.sy.adminUrl)
  const expected: Record<string, number> = {
    'route=api,backend=stable,version=1.0,rule=split,method=GET,code=200': 7,
    'route=api,backend=stable,version=1.0,rule=split,method=GET,code=503': 3,
    'route=api,backend=canary,version=1.1,rule=beta,method=POST,code=200': 4,
    'route=api,backend=canary,version=1.1,rule=beta,method=DELETE,code=200': 2,
    'route=api,backend=stable,version=1.0,rule=split,method=HEAD,code=200': 1,
    'route=api,backend=stable,version=1.0,rule=split,method=OPTIONS,code=200': 1,
    'route=api,backend=stable,version=1.0,rule=split,method=OTHER,code=200': 2,
    'route=api,backend=canary,version=1.1,rule=beta,method=GET,code=404': 2
  }
  if (web.stable > 0) expected['route=web,backend=stable,version=1.0,rule=split,method=GET,code=200'] = web.stable
  if (web.canary > 0) expected['route=web,backend=canary,version=1.1,rule=split,method=GET,code=200'] = web.canary
  t.same(m.table('switchyard_requests_total', REQUEST_LABELS), expected)
  t.equal(m.sum('switchyard_requests_total'), 62)
  t.equal(m.select('switchyard_upstream_errors_total').length, 0, 'no upstream failed')

  // A second scrape adds nothing: reading the counters does not change them.
  const again = await scrape(p.sy.adminUrl)
  t.same(again.table('switchyard_requests_total', REQUEST_LABELS), expected)
})

t.test('the duration histogram counts every request once, in the right buckets', async t => {
  const p = await running()
  t.teardown(() => p.close())
  const api = { host: 'api.test' }
  await times(10, () => p.get('/status/200', api))
  await times(2, () => p.get('/delay/300', api))
  await times(3, () => p.get('/status/500', { ...api, 'x-beta': '1' }))

  const m = await scrape(p.sy.adminUrl)
  const name = 'switchyard_request_duration_seconds'
  // Every (route, backend) pair the config can reach has a series, traffic or not.
  t.same(m.table(`${name}_count`, ['route', 'backend', 'version']), {
    'route=api,backend=stable,version=1.0': 12,
    'route=api,backend=canary,version=1.1': 3,
    'route=web,backend=stable,version=1.0': 0,
    'route=web,backend=canary,version=1.1': 0
  })
  const stableSeries = { route: 'api', backend: 'stable', version: '1.0' }
  const buckets = m.select(`${name}_bucket`, stableSeries)
  t.same(buckets.map(b => b.labels.le), ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'])
  for (let i = 1; i < buckets.length; i++) t.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative')
  t.equal(m.value(`${name}_bucket`, { ...stableSeries, le: '+Inf' }), 12)
  // The two /delay/300 requests took at least 300 ms: never in a bucket up to 0.25 s.
  t.ok((m.value(`${name}_bucket`, { ...stableSeries, le: '0.25' }) ?? 99) <= 10, 'slow requests are above 0.25 s')
  t.ok((m.value(`${name}_sum`, stableSeries) ?? 0) >= 0.6, 'the sum includes both 300 ms waits')
})

t.test('in_flight counts a request while it runs, and a client that leaves is code 499, not an upstream error', async t => {
  const p = await running()
  t.teardown(() => p.close())
  const series = { route: 'api', backend: 'stable' }
  t.equal((await scrape(p.sy.adminUrl)).value('switchyard_requests_in_flight', series), 0)

  const slow = p.get('/delay/1500', { host: 'api.test' })
  await scrapeUntil(p.sy.adminUrl, m => m.value('switchyard_requests_in_flight', series) === 1)
  t.equal((await slow).status, 200)
  t.equal((await scrape(p.sy.adminUrl)).value('switchyard_requests_in_flight', series), 0)

  // A raw client that sends a request and hangs up before the answer.
  const url = new URL(p.sy.proxyUrl)
  const socket = connect(Number(url.port), url.hostname)
  socket.on('error', () => {})
  socket.write('GET /delay/3000 HTTP/1.1\r\nHost: api.test\r\n\r\n')
  await scrapeUntil(p.sy.adminUrl, m => m.value('switchyard_requests_in_flight', series) === 1)
  socket.destroy()
  const m = await scrapeUntil(p.sy.adminUrl, m => m.value('switchyard_requests_in_flight', series) === 0)
  t.same(m.table('switchyard_requests_total', REQUEST_LABELS), {
    'route=api,backend=stable,version=1.0,rule=split,method=GET,code=200': 1,
    'route=api,backend=stable,version=1.0,rule=split,method=GET,code=499': 1
  })
  t.equal(m.select('switchyard_upstream_errors_total').length, 0, 'the client leaving is not the upstream failing')
})

t.test('/metrics is Prometheus text and includes the process metrics', async t => {
  const p = await running()
  t.teardown(() => p.close())
  const res = await fetch(`${p.sy.adminUrl}/metrics`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    t.match(text, new RegExp(`^${name} `, 'm'), name)
  }
  t.match(text, /^# TYPE switchyard_request_duration_seconds histogram$/m)
  t.match(text, /^# TYPE switchyard_requests_total counter$/m)
  t.equal(p.sy.registry.getSingleMetric('switchyard_requests_total')?.constructor.name, 'Counter', 'the registry is on the handle')
})
