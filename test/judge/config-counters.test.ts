/** The judge's settings and checks, and the counter arithmetic it reads its windows with. */
import t from 'tap'
import { DEFAULT_JUDGE_CONFIG, judgeConfig, judgeConfigProblems } from '../../src/judge/config.js'
import { exceedances, histogramQuantile, plus, since } from '../../src/judge/counters.js'
import { arm, counters } from '../helpers/judge.js'

t.test('defaults: α 0.05, δ 0.5, p99, min-step 1m, max-step 10m, uniform prior', async t => {
  t.same(judgeConfigProblems(DEFAULT_JUDGE_CONFIG), [])
  t.same([DEFAULT_JUDGE_CONFIG.alpha, DEFAULT_JUDGE_CONFIG.errors.delta, DEFAULT_JUDGE_CONFIG.latency.delta, DEFAULT_JUDGE_CONFIG.quantile],
    [0.05, 0.5, 0.5, 0.99])
  t.same([DEFAULT_JUDGE_CONFIG.minStepMs, DEFAULT_JUDGE_CONFIG.maxStepMs, DEFAULT_JUDGE_CONFIG.prior], [60_000, 600_000, { a: 1, b: 1 }])
  const c = judgeConfig({ alpha: 0.01, errors: { delta: 0.2 } })
  t.same([c.alpha, c.errors.delta, c.errors.tolerance, c.latency.delta], [0.01, 0.2, 0.01, 0.5], 'settings merge over the defaults per metric')
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.errors))
})

t.test('every problem is reported with its path', async t => {
  const c = judgeConfig({ alpha: 1, errors: { delta: -1, tolerance: 1 }, minRequests: 2.5, minStepMs: 10, maxStepMs: 5, maxErrorRate: Number.NaN, prior: { a: 0, b: 1 } })
  t.same(judgeConfigProblems(c), [
    'alpha: 1 is not between 0 and 1',
    'errors.delta: -1 is not ≥ 0',
    'errors.tolerance: 1 is not in [0, 1)',
    'minRequests: 2.5 is not a whole number ≥ 0',
    'maxStepMs: 5 is not ≥ minStepMs (10)',
    'maxErrorRate: NaN is not between 0 and 1',
    'prior.a: 0 is not > 0'
  ])
})

t.test('histogramQuantile estimates as Prometheus does', async t => {
  const b = new Map([[0.1, 50], [0.2, 90], [0.4, 100], [Infinity, 100]])
  t.equal(histogramQuantile(0.5, b), 0.1)
  t.equal(histogramQuantile(0.7, b)?.toFixed(6), '0.150000')
  t.equal(histogramQuantile(0.95, b)?.toFixed(6), '0.300000')
  t.equal(histogramQuantile(0.99, new Map([[0.1, 10], [Infinity, 100]])), 0.1, 'in +Inf: the last finite bound')
  t.equal(histogramQuantile(0.99, new Map([[0.1, 0], [Infinity, 0]])), undefined)
  t.equal(histogramQuantile(0.99, new Map()), undefined)
})

t.test('exceedances: the total minus the count at the largest bound ≤ the threshold', async t => {
  const b = new Map([[0.1, 50], [0.2, 90], [0.4, 100], [Infinity, 120]])
  t.same([exceedances(b, 0.2), exceedances(b, 0.3), exceedances(b, 0.05), exceedances(b, 1)], [30, 30, 120, 20])
})

t.test('since and plus: windows from readings, resets and junk included', async t => {
  const d = since(counters(arm(150, 3, 10), arm(1000, 5)), counters(arm(100, 1, 4), arm(1000, 5)))
  t.same([d.canary.requests, d.canary.errors, [...d.canary.buckets.values()]], [50, 2, [44, 44, 44, 50, 50, 50]])
  t.same([d.baseline.requests, d.baseline.errors, d.canary.units], [0, 0, undefined])
  const reset = since(counters(arm(20, 1, 2), arm(1000, 5)), counters(arm(100, 1, 4), arm(1000, 5)))
  t.same([reset.canary.requests, reset.canary.errors, reset.canary.buckets.get(Infinity), reset.canary.buckets.get(0.05)], [20, 0, 20, 18],
    'requests restarted below the start: the reading is the window (errors 1 ≥ 1 did not visibly restart)')
  const junk = since(counters(arm(Number.NaN, -3, 0, { units: 7.9 }), arm(Infinity, 2)), counters(arm(0, 0), arm(0, 0)))
  t.same([junk.canary.requests, junk.canary.errors, junk.canary.units, junk.baseline.requests], [0, 0, 7, 0])
  const sum = plus(counters(arm(10, 1, 2), arm(90, 0)), counters(arm(5, 0, 1, { units: 3 }), arm(45, 2)))
  t.same([sum.canary.requests, sum.canary.errors, sum.canary.units, sum.canary.buckets.get(0.5), sum.canary.buckets.get(0.05), sum.baseline.errors], [15, 1, 3, 15, 12, 2])
})
