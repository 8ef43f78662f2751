/**
 * judge(): each outcome from exact counts, the rule and sentence that
 * decided it, evidence carried between looks, counter resets, restarts, and
 * the frozen latency threshold.
 */
import t from 'tap'
import { judgeConfig, type JudgeSettings } from '../../src/judge/config.js'
import { judge } from '../../src/judge/judge.js'
import { freezeThreshold, startStep, type Step } from '../../src/judge/step.js'
import { arm, BOUNDS, counters, ZERO } from '../helpers/judge.js'
import type { Counters } from '../../src/judge/counters.js'

const MIN = 60_000

/** A step at `weight` started at t = 0 from zero readings; the previous window's baseline p99 is in the first bucket (≤ 0.05 s). */
function step (weight: number, settings: JudgeSettings = {}, previous = true): Step {
  return startStep({ config: judgeConfig(settings), weight, now: 0, counters: ZERO, previousBaseline: previous ? arm(10_000, 0, 50).buckets : undefined })
}

t.test('outcomes from exact counts', async t => {
  const cases: Array<{ desc: string, step: Step, counts: Counters, now: number, outcome: string, rule: string }> = [
    { desc: 'nothing yet', step: step(0.05), counts: ZERO, now: 1000, outcome: 'inconclusive-continue', rule: 'waiting' },
    { desc: 'a dead canary: 10 errors in its first 10 requests', step: step(0.05), counts: counters(arm(10, 10), arm(190, 0)), now: 1000, outcome: 'worse', rule: 'errors-worse' },
    { desc: 'two errors in two requests are not enough yet', step: step(0.05), counts: counters(arm(2, 2), arm(38, 0)), now: 1000, outcome: 'inconclusive-continue', rule: 'waiting' },
    // The simulation's false rollback with the raw share: 1 canary request in 200 is a share of 0.5 %
    // (true 1 %), and its one error looked like BF 66 ≥ 40. The bound ρ⁺ on the share keeps it at bay.
    { desc: 'one error on the only canary request', step: step(0.01), counts: counters(arm(1, 1), arm(199, 0)), now: 1000, outcome: 'inconclusive-continue', rule: 'waiting' },
    { desc: 'errors 5× the baseline at 50/50', step: step(0.5), counts: counters(arm(4000, 100), arm(4000, 20)), now: 1000, outcome: 'worse', rule: 'errors-worse' },
    { desc: 'errors 1.2× the baseline: within δ, passes after min-step', step: step(0.5), counts: counters(arm(200_000, 1200), arm(200_000, 1000, 2000)), now: MIN, outcome: 'pass', rule: 'no-worse' },
    { desc: 'the same before min-step waits', step: step(0.5), counts: counters(arm(200_000, 1200), arm(200_000, 1000, 2000)), now: MIN - 1, outcome: 'inconclusive-continue', rule: 'waiting' },
    { desc: 'two clean arms pass on the absolute tolerance', step: step(0.25), counts: counters(arm(10_000, 0), arm(30_000, 0)), now: MIN, outcome: 'pass', rule: 'no-worse' },
    { desc: 'low traffic at max-step: inconclusive, not worse', step: step(0.05), counts: counters(arm(6, 0), arm(114, 1)), now: 10 * MIN, outcome: 'inconclusive-timeout', rule: 'max-step' },
    { desc: 'slow requests 10× the baseline', step: step(0.5), counts: counters(arm(2000, 0, 200), arm(2000, 0, 20)), now: 1000, outcome: 'worse', rule: 'latency-worse' },
    { desc: 'latency judged only with a threshold', step: step(0.5, {}, false), counts: counters(arm(2000, 0, 200), arm(2000, 0, 20)), now: 1000, outcome: 'inconclusive-continue', rule: 'waiting' },
    { desc: 'the canary gets 20 % at weight 5 %', step: step(0.05), counts: counters(arm(2000, 0), arm(8000, 0)), now: 1000, outcome: 'srm', rule: 'sample-ratio' },
    { desc: 'two errors in three requests do not trip a 5 % guardrail', step: step(0.5, { maxErrorRate: 0.05 }), counts: counters(arm(3, 2), arm(3, 2)), now: 1000, outcome: 'inconclusive-continue', rule: 'waiting' },
    { desc: 'a canary failing its first two requests does', step: step(0.5, { maxErrorRate: 0.05 }), counts: counters(arm(2, 2), arm(2, 0)), now: 1000, outcome: 'critical', rule: 'guardrail-error-rate' },
    { desc: 'a canary as bad as the baseline still breaks the guardrail', step: step(0.5, { maxErrorRate: 0.05 }), counts: counters(arm(1000, 100), arm(1000, 100)), now: 1000, outcome: 'critical', rule: 'guardrail-error-rate' },
    { desc: 'the latency guardrail counts over the bound ≥ its limit', step: step(0.5, { maxLatencySeconds: 0.2 }), counts: counters(arm(1000, 0, 100), arm(1000, 0, 100)), now: 1000, outcome: 'critical', rule: 'guardrail-latency' }
  ]
  for (const c of cases) {
    const v = judge(c.step, c.counts, c.now)
    t.equal(`${v.outcome} ${v.rule}`, `${c.outcome} ${c.rule}`, c.desc, { reason: v.reason })
  }
})

t.test('the verdict carries the numbers behind it', async t => {
  const v = judge(step(0.05), counters(arm(10, 10), arm(190, 0)), 1000)
  t.same(v.canary, { requests: 10, errors: 10, timed: 10, slow: 0 })
  t.same(v.baseline, { requests: 190, errors: 0, timed: 190, slow: 0 })
  t.same([v.rho, v.errors.rho, v.errors.delta, v.alpha], [0.05, 0.05, 0.5, 0.05])
  t.equal(v.errors.rhoDelta?.toFixed(9), (0.075 / 1.025).toFixed(9))
  t.equal(v.errors.worse.level.toFixed(12), '0.022500000000', 'α split over errors and latency, a tenth of each for the bound on ρ')
  // mpmath, independently: ρ⁺ = 0.1303195 at level 0.0025, ρ⁺_δ = 0.1835211, ln BF = 14.7591158
  t.equal(v.errors.rhoUpper?.toFixed(6), '0.130320')
  t.equal(v.errors.worseShare?.toFixed(6), '0.183521')
  t.equal(Math.log(v.errors.worse.bayesFactor).toFixed(4), '14.7591', 'to the bound\'s resolution')
  t.ok(v.errors.rhoLower !== undefined && v.errors.rhoLower < 0.05 && v.errors.rhoUpper !== undefined && v.errors.rhoUpper > 0.05)
  t.equal(v.errors.worse.pValue.toPrecision(12), (1 / v.errors.worse.bayesFactor).toPrecision(12))
  t.same(v.threshold, { seconds: 0.05, source: 'baseline', from: 0.05 * 9900 / 9950 })
  t.equal(v.reason, "errors worse than 1.5× the baseline's: canary 10 of 10 (100 %), baseline 0 of 190 (0 %), canary share 5 % (p 3.892e-7 ≤ 0.0225)")
  t.equal(v.evidence['errors.worse'], v.errors.worse.pValue)
  t.same(JSON.parse(JSON.stringify(v)).errors.worse, v.errors.worse, 'serializes without losing numbers')
})

t.test('evidence carries over looks: a rejection stays a rejection', async t => {
  const s = step(0.5, { minStepMs: 0, minRequests: 20_000, errors: { tolerance: 0.001 } })
  // First look: 10 000 canary requests without an error show it under a 0.1 % tolerance,
  // but the arms lack the minimum exposure to pass yet.
  const first = judge(s, counters(arm(10_000, 0), arm(10_000, 0)), 1000)
  t.same([first.outcome, first.errors.negligible.rejected], ['inconclusive-continue', true])
  // Later, 30 errors in 24 000 (0.125 %) against 24: these counts alone show nothing either way.
  const later = counters(arm(24_000, 30), arm(24_000, 24))
  const alone = judge(s, later, 2000)
  t.same([alone.outcome, alone.errors.negligible.rejected, alone.errors.noWorse.rejected, alone.errors.worse.rejected],
    ['inconclusive-continue', false, false, false])
  const carried = judge({ ...s, evidence: first.evidence }, later, 2000)
  t.same([carried.outcome, carried.errors.negligible.pValue], ['pass', first.errors.negligible.pValue])
})

t.test('a counter reset counts from the new reading; a restart adds the carried counts', async t => {
  const start = counters(arm(1000, 10), arm(19_000, 100))
  const s = startStep({ config: judgeConfig(), weight: 0.05, now: 0, counters: start })
  t.same(judge(s, counters(arm(1100, 10), arm(20_900, 101)), 1000).canary.requests, 100)
  const reset = judge(s, counters(arm(50, 1), arm(950, 5)), 1000)
  t.same([reset.canary.requests, reset.canary.errors, reset.baseline.requests, reset.baseline.errors], [50, 1, 950, 5])
  const resumed = startStep({ config: judgeConfig(), weight: 0.05, now: 5000, startedAt: 0, counters: counters(arm(7, 0), arm(3, 0)), carried: counters(arm(100, 1), arm(1900, 10)) })
  const v = judge(resumed, counters(arm(17, 0), arm(193, 0)), 6000)
  t.same([v.canary.requests, v.baseline.requests, v.exposure.elapsedMs], [110, 2090, 6000])
})

t.test('the threshold: baseline quantile or SLO, rounded up to a histogram bound', async t => {
  const c = judgeConfig()
  t.same(freezeThreshold(c, BOUNDS, arm(1000, 0, 0).buckets), { seconds: 0.05, source: 'baseline', from: 0.05 * 0.99 })
  t.equal(freezeThreshold(c, BOUNDS, arm(1000, 0, 20).buckets)?.seconds, 0.5, 'p99 among the slow ones')
  t.equal(freezeThreshold(c, BOUNDS, new Map([[0.05, 0], [1, 0], [Infinity, 10]]))?.seconds, 1, '+Inf: the last finite bound')
  t.equal(freezeThreshold(c, BOUNDS, arm(0, 0).buckets), undefined, 'no baseline traffic: latency not judged')
  t.equal(freezeThreshold(c, BOUNDS, undefined), undefined)
  t.same(freezeThreshold(judgeConfig({ sloSeconds: 0.2 }), BOUNDS, undefined), { seconds: 0.25, source: 'slo', from: 0.2 })
  t.same(freezeThreshold(judgeConfig({ sloSeconds: 30 }), BOUNDS, undefined), { seconds: 1, source: 'slo', from: 30 })
  t.equal(freezeThreshold(judgeConfig({ sloSeconds: 0.2 }), [], undefined), undefined, 'no histogram at all')
  t.equal(step(0.5, { maxLatencySeconds: 0.2 }).guardrailBound, 0.25)
  t.equal(step(0.5, { maxLatencySeconds: 5 }).guardrailBound, undefined, 'no bound ≥ the limit: the guardrail cannot count')
})

t.test('inconclusive verdicts say what is missing', async t => {
  const v = judge(step(0.05), counters(arm(6, 0), arm(114, 1)), 10 * MIN)
  t.match(v.reason, /^inconclusive after 10m \(max-step 10m\): canary has 6 of 100 requests; errors not yet shown within 1\.5× the baseline's/)
  const w = judge(step(0.05), counters(arm(200, 0), arm(3800, 0)), 30_000)
  t.match(w.reason, /^step has run 30s of 1m; errors not yet shown/)
})
