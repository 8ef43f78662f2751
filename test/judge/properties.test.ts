/**
 * judge() for all inputs (fast-check): no NaN and p-values in [0, 1] for any
 * counts including zeros; a canary that is better is never "worse"; swapping
 * arms never makes a better canary look worse; request counts matter only
 * through the share and its confidence bounds (no errors: no evidence at any
 * scale); more canary errors never weaken the case against it.
 */
import t from 'tap'
import fc from 'fast-check'
import { holds } from '../helpers/property.js'
import { judgeConfig } from '../../src/judge/config.js'
import { judge } from '../../src/judge/judge.js'
import { startStep, type Step } from '../../src/judge/step.js'
import type { Verdict } from '../../src/judge/verdict.js'
import { arm, counters, ZERO } from '../helpers/judge.js'

interface ArmCase { requests: number, errors: number, slow: number }

const armArb = (max: number): fc.Arbitrary<ArmCase> => fc.tuple(fc.integer({ min: 0, max }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([requests, e, s]) => ({ requests, errors: Math.floor(requests * e * e), slow: Math.floor(requests * s * s) }))

const weightArb = fc.double({ min: 0, max: 1, noNaN: true })

function stepAt (weight: number, settings: Parameters<typeof judgeConfig>[0] = {}): Step {
  return startStep({ config: judgeConfig({ maxErrorRate: 0.2, maxLatencySeconds: 0.3, ...settings }), weight, now: 0, counters: ZERO, previousBaseline: arm(1000, 0, 10).buckets })
}

function look (s: Step, c: ArmCase, b: ArmCase, now = 30_000): Verdict {
  return judge(s, counters(arm(c.requests, c.errors, c.slow), arm(b.requests, b.errors, b.slow)), now)
}

/** Every number in the verdict, with its path. */
function numbers (x: unknown, path = ''): Array<[string, number]> {
  if (typeof x === 'number') return [[path, x]]
  if (x === null || typeof x !== 'object') return []
  return Object.entries(x).flatMap(([k, v]) => numbers(v, `${path}.${k}`))
}

t.test('no NaN, p-values in [0, 1], a verdict for any counts and any weight', async t => {
  holds(t, fc.property(armArb(10_000_000), armArb(10_000_000), weightArb, fc.integer({ min: -1e9, max: 1e9 }), (c, b, w, now) => {
    const v = look(stepAt(w), c, b, now)
    const all = numbers(v)
    return all.every(([, n]) => !Number.isNaN(n)) &&
      all.filter(([p]) => p.endsWith('.pValue')).every(([, p]) => p >= 0 && p <= 1) &&
      typeof v.reason === 'string' && v.reason.length > 0
  }), { numRuns: 300 })
  for (const [c, b] of [[0, 0], [0, 5], [5, 0]] as const) {
    const v = look(stepAt(0.05), { requests: c, errors: c, slow: 0 }, { requests: b, errors: b, slow: b })
    t.notOk(numbers(v).some(([, n]) => Number.isNaN(n)), `canary ${c} / baseline ${b}: no NaN`)
  }
})

/** Rates of a better canary: at most the baseline's, for errors and for slow requests. */
const betterArb = fc.tuple(armArb(1_000_000), armArb(1_000_000)).filter(([c, b]) =>
  c.requests > 0 && b.requests > 0 && c.errors / c.requests <= b.errors / b.requests && c.slow / c.requests <= b.slow / b.requests)

t.test('a canary no worse than the baseline on both counts is never judged worse', async t => {
  holds(t, fc.property(betterArb, weightArb, ([c, b], w) => {
    const v = look(stepAt(w, { maxErrorRate: undefined, maxLatencySeconds: undefined }), c, b)
    // BF ≤ 1 in exact arithmetic; the look rounds it to within 1e-12
    return v.outcome !== 'worse' && v.errors.worse.pValue >= 1 - 1e-12 && (v.latency?.worse.pValue ?? 0) >= 1 - 1e-12
  }), { numRuns: 300 })
})

t.test('swapping the arms never makes the better arm look worse', async t => {
  holds(t, fc.property(betterArb, weightArb, ([c, b], w) => {
    const s = stepAt(w)
    return look(s, c, b).errors.worse.pValue >= look(s, b, c).errors.worse.pValue - 1e-12
  }), { numRuns: 300 })
})

t.test('request counts enter through the canary share and the confidence in it', async t => {
  holds(t, fc.property(armArb(100_000), armArb(100_000), fc.integer({ min: 2, max: 1000 }), (c, b, k) => {
    fc.pre(c.requests > 0 && b.requests > 0)
    const s = stepAt(0.5)
    const v = look(s, c, b).errors
    const scaled = look(s, { ...c, requests: c.requests * k }, { ...b, requests: b.requests * k }).errors
    const same = (x: number | undefined, y: number | undefined): boolean => x !== undefined && y !== undefined && Math.abs(x - y) <= 1e-12
    // the bounds hold the share, and k times the requests (same errors) only narrow them
    return same(v.rho, scaled.rho) && same(v.rhoDelta, scaled.rhoDelta) &&
      v.rhoLower! <= v.rho! && v.rho! <= v.rhoUpper! &&
      scaled.rhoLower! >= v.rhoLower! - 1e-9 && scaled.rhoUpper! <= v.rhoUpper! + 1e-9
  }), { numRuns: 300 })
  holds(t, fc.property(fc.integer({ min: 0, max: 1e7 }), fc.integer({ min: 0, max: 1e7 }), weightArb, (c, b, w) => {
    const v = look(stepAt(w), { requests: c, errors: 0, slow: 0 }, { requests: b, errors: 0, slow: 0 })
    return v.errors.worse.pValue === 1 && v.errors.noWorse.pValue === 1 && v.outcome !== 'worse' && v.outcome !== 'critical'
  }), { numRuns: 300 }, 'without errors there is no evidence either way, at any scale')
})

t.test('one more canary error never weakens the case that it is worse', async t => {
  holds(t, fc.property(armArb(1_000_000), armArb(1_000_000), weightArb, (c, b, w) => {
    fc.pre(c.errors < c.requests)
    const s = stepAt(w)
    const v = look(s, c, b)
    const more = look(s, { ...c, errors: c.errors + 1 }, b)
    return more.errors.worse.pValue <= v.errors.worse.pValue * (1 + 1e-9) &&
      more.guardrails[0]!.test.pValue <= v.guardrails[0]!.test.pValue * (1 + 1e-9) &&
      (v.outcome !== 'worse' || more.outcome === 'worse' || more.outcome === 'critical')
  }), { numRuns: 300 })
})
