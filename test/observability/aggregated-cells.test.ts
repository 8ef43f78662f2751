/**
 * The console's time series under `serve --workers`: AggregatedCells reads
 * the workers' metrics as the primary gets them (prom-client JSON of each
 * worker's registry, added up by AggregatorRegistry) into cells, and the
 * sampler turns them into the same rates, 5xx shares, quantiles and new
 * users as from a single process's cells; a restarted worker (counts going
 * down) starts its interval from 0 instead of a negative rate; a series
 * that left the metrics is no longer served. The real multi-process wiring
 * is checked in test/cli/workers.test.ts.
 */
import t from 'tap'
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { AggregatedCells } from '../../src/observability/aggregated-cells.js'
import { DURATION_BUCKETS } from '../../src/observability/series-cell.js'
import { TimeseriesSampler } from '../../src/observability/timeseries.js'

/** One worker's registry, with the metrics the primary reads, under their real names and labels. */
function worker () {
  const registry = new Registry()
  const durations = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'h', labelNames: ['route', 'backend', 'version', 'grpc_code'], buckets: [...DURATION_BUCKETS], registers: [registry] })
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code'], registers: [registry] })
  const sticky = new Counter({ name: 'switchyard_sticky_assignments_total', help: 'h', labelNames: ['route', 'backend'], registers: [registry] })
  return {
    registry,
    respond (backend: string, version: string, seconds: number, code: number, newUser = false): void {
      durations.observe({ route: 'web', backend, version }, seconds)
      requests.inc({ route: 'web', backend, version, rule: 'split', method: 'GET', code: String(code) })
      if (newUser) sticky.inc({ route: 'web', backend })
    },
    grpc (seconds: number): void {
      durations.observe({ route: 'web', backend: 'stable', version: '1.0', grpc_code: 'OK' }, seconds)
    }
  }
}

t.test('the workers\' sums, sampled as a single process\'s cells are', async t => {
  let a = worker()
  const b = worker()
  const cells = new AggregatedCells(async () => await AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]).getMetricsAsJSON())
  const sampler = new TimeseriesSampler(cells, { intervalMs: 5000, now: () => 0 })
  const latest = () => Object.fromEntries(sampler.read().series.map(s => [s.backend, Object.fromEntries(Object.entries(s.points).map(([k, v]) => [k, v.at(-1)]))]))

  // 10 s: stable 30 requests at 20 ms on a (3 of them 5xx, 4 new users) + 20 at 20 ms on b; canary 10 at 300 ms on b.
  for (let i = 0; i < 30; i++) a.respond('stable', '1.0', 0.02, i < 3 ? 503 : 200, i < 4)
  for (let i = 0; i < 20; i++) b.respond('stable', '1.0', 0.02, 200)
  for (let i = 0; i < 10; i++) b.respond('canary', '1.1', 0.3, 200)
  a.grpc(7) // a gRPC call: its own series, as a single process keeps it apart
  await cells.refresh()
  sampler.sample(10_000)
  let s = latest()
  t.same(s.stable, { t: 10_000, rate: 5, errorShare: 0.06, p50: 0.01 + 0.015 * 0.5, p99: 0.02485, sticky: 0.4, requests: 50 })
  t.equal(s.canary?.requests, 10)
  t.equal(s.canary?.rate, 1)
  t.ok(Math.abs((s.canary?.p50 as number) - (0.25 + 0.25 * 0.5)) < 1e-12, 'canary p50 in (0.25, 0.5]')

  // Worker a restarts: its counts start again from 0. The interval counts from 0, never a negative rate.
  a = worker()
  for (let i = 0; i < 5; i++) a.respond('stable', '1.0', 0.02, 200)
  await cells.refresh()
  sampler.sample(15_000)
  s = latest()
  t.same([s.stable?.requests, s.stable?.rate, s.stable?.errorShare], [25, 5, 0], 'the restarted worker\'s 5 and b\'s 20, counted from 0')

  // The next interval is an ordinary difference again.
  for (let i = 0; i < 10; i++) a.respond('stable', '1.0', 0.02, 500)
  await cells.refresh()
  sampler.sample(20_000)
  s = latest()
  t.same([s.stable?.requests, s.stable?.rate, s.stable?.errorShare], [35, 2, 1])
})

t.test('a series that left the metrics is not served; a worker that does not answer rejects the refresh', async t => {
  const a = worker()
  a.respond('stable', '1.0', 0.02, 200)
  a.respond('canary', '1.1', 0.02, 200)
  let json = await a.registry.getMetricsAsJSON()
  let fail = false
  const cells = new AggregatedCells(async () => { if (fail) throw new Error('worker 2 did not answer'); return json })
  const sampler = new TimeseriesSampler(cells, { intervalMs: 5000, now: () => 0 })
  await cells.refresh()
  sampler.sample(5000)
  t.same(sampler.read().series.map(s => s.backend).sort(), ['canary', 'stable'])
  json = json.map(m => ({ ...m, values: m.values.filter(v => v.labels.backend !== 'canary') }))
  await cells.refresh()
  sampler.sample(10_000)
  t.same(sampler.read().series.map(s => s.backend), ['stable'], 'canary left the config')
  fail = true
  await t.rejects(cells.refresh(), /worker 2 did not answer/)
})
