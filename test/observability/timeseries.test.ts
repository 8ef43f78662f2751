/**
 * The console's in-memory time series: the ring keeps exactly the last
 * `capacity` samples in order whatever is pushed; the sampler turns the
 * cells' cumulative counters into per-interval rates, 5xx shares,
 * quantiles and new users; GET /admin/timeseries serves them under the
 * admin API's read rules. Pure (a clock passed in), no timers waited on.
 */
import t from 'tap'
import fc from 'fast-check'
import { pino } from 'pino'
import { holds } from '../helpers/property.js'
import { bucketQuantile, SampleRing, TimeseriesSampler } from '../../src/observability/timeseries.js'
import { DURATION_BUCKETS, SeriesCell } from '../../src/observability/series-cell.js'
import { registerTimeseries } from '../../src/admin/timeseries.js'
import { buildAdminApp } from '../../src/admin/server.js'

const sample = (t: number) => ({ t, rate: t * 2, errorShare: 0, p50: 0, p99: 0, sticky: 0, requests: t })

t.test('the ring keeps the last `capacity` samples, oldest first, and filters by time', async t => {
  holds(t, fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), (capacity, pushed, since) => {
    const ring = new SampleRing(capacity)
    for (let i = 1; i <= pushed; i++) ring.push(sample(i))
    const kept = Array.from({ length: Math.min(capacity, pushed) }, (_, k) => pushed - Math.min(capacity, pushed) + 1 + k)
    const all = ring.points()
    const later = ring.points(since)
    return ring.size === kept.length &&
      JSON.stringify(all.t) === JSON.stringify(kept) &&
      JSON.stringify(all.rate) === JSON.stringify(kept.map(x => x * 2)) &&
      JSON.stringify(later.t) === JSON.stringify(kept.filter(x => x > since))
  }))
  t.throws(() => new SampleRing(0), RangeError)
})

t.test('bucketQuantile interpolates inside the bucket holding the rank, as histogram_quantile does', async t => {
  const counts = new Float64Array(DURATION_BUCKETS.length + 1)
  t.ok(Number.isNaN(bucketQuantile(0.5, counts)), 'no observations: NaN')
  counts[4] = 100 // (0.01, 0.025]
  t.equal(bucketQuantile(0.5, counts), 0.01 + 0.015 * 0.5)
  t.ok(Math.abs(bucketQuantile(0.99, counts) - 0.02485) < 1e-12, 'p99 near the top of the bucket')
  counts[0] = 100 // (0, 0.001]
  t.equal(bucketQuantile(0.25, counts), 0.0005)
  t.equal(bucketQuantile(0.5, counts), 0.001, 'the rank at a bucket edge is its upper bound')
  const slow = new Float64Array(DURATION_BUCKETS.length + 1)
  slow[DURATION_BUCKETS.length] = 3 // above 10 s
  t.equal(bucketQuantile(0.99, slow), 10, 'above the largest bound: the largest bound')
})

/** Counts one response into a cell, as RequestMetrics does. */
function respond (cell: SeriesCell, seconds: number, code: number, newUser = false): void {
  cell.observe(seconds)
  cell.rule('split').add(0, code)
  if (newUser) cell.stickyAssignments.value++
}

function setup () {
  let now = 1_000_000
  const stable = new SeriesCell('web', 'stable', '1.0')
  const canary = new SeriesCell('web', 'canary', '1.1')
  const gone = new SeriesCell('old', 'stable', '1.0')
  const cells = [stable, canary, gone]
  const sampler = new TimeseriesSampler({ cells: () => cells.values(), isLive: c => c !== gone }, { intervalMs: 5000, windowMs: 20_000, now: () => now })
  return { stable, canary, sampler, advance: (ms: number) => { now += ms; return now } }
}

t.test('the sampler records per-interval rate, 5xx share, quantiles, new users and the running count', async t => {
  const { stable, canary, sampler, advance } = setup()
  t.equal(sampler.capacity, 4)
  t.same(sampler.read().series, [], 'nothing before the first sample')
  for (let i = 0; i < 90; i++) respond(stable, 0.02, 200, i < 10)
  for (let i = 0; i < 10; i++) respond(canary, 0.2, i < 5 ? 503 : 200)
  const t1 = advance(5000)
  sampler.sample()
  for (let i = 0; i < 45; i++) respond(stable, 0.02, 200)
  const t2 = advance(5000)
  sampler.sample()

  const body = sampler.read()
  t.equal(body.intervalSeconds, 5)
  t.equal(body.windowSeconds, 20)
  t.equal(body.sampledAt, t2)
  t.same(body.series.map(s => `${s.route}/${s.backend}/${s.version}`), ['web/stable/1.0', 'web/canary/1.1'], 'only series of the running config')
  const [s, c] = body.series
  t.same(s?.points.t, [t1, t2])
  t.same(s?.points.rate, [18, 9])
  t.same(s?.points.requests, [90, 135])
  t.same(s?.points.errorShare, [0, 0])
  t.same(s?.points.sticky, [2, 0])
  t.same(c?.points.rate, [2, 0])
  t.same(c?.points.errorShare.slice(0, 1), [0.5])
  t.ok(Number.isNaN(c?.points.errorShare[1]), 'no responses in the interval: no error share')
  t.equal(c?.points.p50[0], 0.1 + 0.15 * 0.5)
  t.ok(Number.isNaN(c?.points.p99[1]))
  t.same(sampler.read({ since: t1 }).series[0]?.points.t, [t2], 'since: only newer samples')
  t.same(sampler.read({ route: 'nope' }).series, [])

  for (let i = 0; i < 6; i++) { advance(5000); sampler.sample() }
  t.equal(sampler.read().series[0]?.points.t.length, 4, 'the window keeps `capacity` samples')
  sampler.sample()
  t.equal(sampler.read().series[0]?.points.t.length, 4, 'a second sample at the same instant is skipped')
})

t.test('counts that went down count nothing: never a negative rate, 5xx share or bucket', async t => {
  const { stable, sampler, advance } = setup()
  for (let i = 0; i < 100; i++) respond(stable, 0.3, i < 10 ? 503 : 200)
  advance(5000)
  sampler.sample()
  // Counts no CellSource should give (theirs only grow): more requests, but fewer 5xx and fewer in the slow bucket.
  stable.byRule.clear()
  stable.buckets.fill(0)
  stable.durationCount = 0
  for (let i = 0; i < 120; i++) respond(stable, 0.02, 200)
  advance(5000)
  sampler.sample()
  let p = sampler.read().series[0]?.points
  t.same([p?.rate.at(-1), p?.errorShare.at(-1), p?.p50.at(-1), p?.requests.at(-1)], [4, 0, 0.01 + 0.015 * 0.5, 120], '20 more requests; the 5xx and the slow bucket not taken off them')
  stable.durationCount = 40
  stable.buckets.fill(0)
  stable.buckets[4] = 40
  advance(5000)
  sampler.sample()
  p = sampler.read().series[0]?.points
  t.same([p?.rate.at(-1), p?.errorShare.at(-1), p?.p50.at(-1), p?.requests.at(-1)], [0, NaN, NaN, 40], 'fewer requests: none in the interval')
})

t.test('GET /admin/timeseries: JSON with nulls for empty intervals, read auth, bad since refused', async t => {
  const { stable, sampler, advance } = setup()
  respond(stable, 0.003, 200)
  const t1 = advance(5000)
  sampler.sample()
  advance(5000)
  sampler.sample()
  const app = buildAdminApp({ logger: pino({ level: 'silent' }), readiness: { ready: () => true, reason: () => '' } })
  registerTimeseries(app, sampler, { token: 'secret', loopback: true })
  t.teardown(() => app.close())

  t.equal((await app.inject({ url: '/admin/timeseries' })).statusCode, 401)
  const auth = { authorization: 'Bearer secret' }
  const res = await app.inject({ url: `/admin/timeseries?since=${t1}&route=web`, headers: auth })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json<{ series: Array<{ backend: string, points: { rate: number[], errorShare: Array<number | null>, requests: number[] } }> }>()
  t.same(body.series.map(s => [s.backend, s.points.rate, s.points.errorShare, s.points.requests]), [['stable', [0], [null], [1]], ['canary', [0], [null], [0]]])
  t.equal((await app.inject({ url: '/admin/timeseries?since=yesterday', headers: auth })).statusCode, 400, 'a malformed since is a 400')
})
