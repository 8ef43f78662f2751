/**
 * The console's time series under `serve --workers`: AggregatedCells reads
 * each worker's metrics as the primary gets them (prom-client JSON of each
 * worker's registry, with the worker's id) into cells, and the sampler
 * turns them into the same rates, 5xx shares, quantiles and new users as
 * from a single process's cells. A restarted worker (a new id, counts from
 * 0) adds only its new requests and the others only their increase, so an
 * interval counts exactly the requests served in it, never a negative
 * number and never the other workers' history again; a worker left out of
 * a reading counts in the next one. A series that left the metrics is no
 * longer served. The real multi-process wiring is checked in
 * test/cli/workers.test.ts.
 */
import t from 'tap'
import fc from 'fast-check'
import { Counter, Histogram, Registry } from 'prom-client'
import { holdsAsync } from '../helpers/property.js'
import { AggregatedCells } from '../../src/observability/aggregated-cells.js'
import { DURATION_BUCKETS } from '../../src/observability/series-cell.js'
import { TimeseriesSampler } from '../../src/observability/timeseries.js'

let nextId = 1

/** One worker's registry, with the metrics the primary reads, under their real names and labels; a new id each (as node:cluster gives). */
function worker () {
  const id = nextId++
  const registry = new Registry()
  const durations = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'h', labelNames: ['route', 'backend', 'version', 'grpc_code'], buckets: [...DURATION_BUCKETS], registers: [registry] })
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code'], registers: [registry] })
  const sticky = new Counter({ name: 'switchyard_sticky_assignments_total', help: 'h', labelNames: ['route', 'backend'], registers: [registry] })
  return {
    registry,
    zero (backend: string, version: string): void {
      durations.zero({ route: 'web', backend, version })
    },
    reading: async () => ({ worker: id, metrics: await registry.getMetricsAsJSON() }),
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
  const cells = new AggregatedCells(async () => [await a.reading(), await b.reading()])
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

  // Worker a restarts (a new id): its counts start again from 0, the sum of the workers' stable counts drops from 50 to 25.
  a = worker()
  for (let i = 0; i < 5; i++) a.respond('stable', '1.0', 0.02, 200)
  await cells.refresh()
  sampler.sample(15_000)
  s = latest()
  t.same([s.stable?.requests, s.stable?.rate, s.stable?.errorShare, s.stable?.p50], [55, 1, 0, 0.01 + 0.015 * 0.5], 'only the restarted worker\'s 5 new requests: b\'s 20 were sampled before')
  t.same([s.canary?.requests, s.canary?.rate], [10, 0])

  // The next interval is an ordinary difference again.
  for (let i = 0; i < 10; i++) a.respond('stable', '1.0', 0.02, 500)
  await cells.refresh()
  sampler.sample(20_000)
  s = latest()
  t.same([s.stable?.requests, s.stable?.rate, s.stable?.errorShare], [65, 2, 1])
})

t.test('a restart hidden by the others\' growth: no negative 5xx share, no negative bucket', async t => {
  let a = worker()
  const b = worker()
  const cells = new AggregatedCells(async () => [await a.reading(), await b.reading()])
  const sampler = new TimeseriesSampler(cells, { intervalMs: 5000, now: () => 0 })
  const latest = () => Object.fromEntries(Object.entries(sampler.read().series[0]?.points ?? {}).map(([k, v]) => [k, v.at(-1)]))
  for (let i = 0; i < 10; i++) a.respond('stable', '1.0', 0.3, 503)
  await cells.refresh()
  sampler.sample(5000)
  // a restarts and serves 2 fast 200s; b serves 20 fast 200s: the sum grows from 10 to 22, its 5xx drop from 10 to 0.
  a = worker()
  for (let i = 0; i < 2; i++) a.respond('stable', '1.0', 0.02, 200)
  for (let i = 0; i < 20; i++) b.respond('stable', '1.0', 0.02, 200)
  await cells.refresh()
  sampler.sample(10_000)
  const { p99, ...rest } = latest()
  t.same(rest, { t: 10_000, rate: 4.4, errorShare: 0, p50: 0.01 + 0.015 * 0.5, sticky: 0, requests: 32 }, 'the 22 new requests, none a 5xx, all in (0.01, 0.025]')
  t.ok(Math.abs((p99 as number) - 0.02485) < 1e-12, 'p99 in the same bucket')
})

t.test('a worker left out of a reading counts in the next one it is in', async t => {
  const a = worker()
  const b = worker()
  let both = true
  const cells = new AggregatedCells(async () => both ? [await a.reading(), await b.reading()] : [await b.reading()])
  const sampler = new TimeseriesSampler(cells, { intervalMs: 5000, now: () => 0 })
  const requests = () => sampler.read().series[0]?.points.requests
  const rates = () => sampler.read().series[0]?.points.rate
  for (let i = 0; i < 30; i++) a.respond('stable', '1.0', 0.02, 200)
  await cells.refresh()
  sampler.sample(5000)
  both = false // a misses the deadline: its 30 are not taken from the totals, its next 5 wait for its next answer
  for (let i = 0; i < 5; i++) a.respond('stable', '1.0', 0.02, 200)
  b.respond('stable', '1.0', 0.02, 200)
  await cells.refresh()
  sampler.sample(10_000)
  both = true
  await cells.refresh()
  sampler.sample(15_000)
  t.same(requests(), [30, 31, 36])
  t.same(rates(), [6, 0.2, 1])
})

t.test('a series that left the metrics is not served; a read that fails rejects the refresh', async t => {
  const a = worker()
  a.respond('stable', '1.0', 0.02, 200)
  a.respond('canary', '1.1', 0.02, 200)
  let json = await a.registry.getMetricsAsJSON()
  let fail = false
  const cells = new AggregatedCells(async () => { if (fail) throw new Error('worker 2 did not answer'); return [{ worker: 1, metrics: json }] })
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

t.test('property: each interval counts exactly the requests and 5xx read in it, whatever the workers\' restarts and missed readings', async t => {
  /** Per interval and worker slot: whether its worker was replaced first, the 200s and 503s it then serves, whether its reading is missed. */
  const step = fc.record({ restart: fc.boolean(), ok: fc.nat({ max: 4 }), failed: fc.nat({ max: 2 }), missed: fc.boolean() })
  await holdsAsync(t, fc.asyncProperty(fc.array(fc.array(step, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }), async intervals => {
    const fresh = () => {
      const w = worker()
      w.zero('stable', '1.0') // a worker exports its cells from its first config on, as RequestMetrics prepares them
      return { w, unread: 0, unreadFailed: 0, missed: false }
    }
    const slots = [fresh(), fresh(), fresh()]
    const cells = new AggregatedCells(async () => await Promise.all(slots.filter(s => !s.missed).map(async s => await s.w.reading())))
    const sampler = new TimeseriesSampler(cells, { intervalMs: 1000, now: () => 0 })
    let total = 0
    let now = 0
    for (const interval of intervals) {
      let counted = 0
      let failed = 0
      for (const [i, step] of interval.entries()) {
        // A worker that dies takes its unread requests along: no reading ever had them.
        if (step.restart) slots[i] = fresh()
        const slot = slots[i] ?? fresh()
        for (let k = 0; k < step.ok + step.failed; k++) slot.w.respond('stable', '1.0', 0.02, k < step.failed ? 503 : 200)
        slot.unread += step.ok + step.failed
        slot.unreadFailed += step.failed
        slot.missed = step.missed
        if (!step.missed) {
          counted += slot.unread
          failed += slot.unreadFailed
          slot.unread = slot.unreadFailed = 0
        }
      }
      total += counted
      await cells.refresh()
      sampler.sample(now += 1000)
      const points = sampler.read().series[0]?.points
      if (slots.every(s => s.missed)) continue // no reading: the series is not served this time
      if (points?.rate.at(-1) !== counted || points.requests.at(-1) !== total) return false
      const share = points.errorShare.at(-1) as number
      if (counted === 0 ? !Number.isNaN(share) : Math.abs(share * counted - failed) > 1e-9) return false
    }
    return true
  }))
})
