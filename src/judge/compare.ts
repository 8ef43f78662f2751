/**
 * Canary against baseline on one kind of event (errors, or requests slower
 * than the step's threshold): three tests on the same two counts.
 *
 * - worse: H0 "canary rate ≤ (1+δ) × baseline rate", rejected → roll back.
 *   Under H0 an event falls in the canary with chance ≤ ρ_δ = shareAtRatio(ρ, 1+δ),
 *   ρ the canary's OBSERVED share of requests (not its weight: a routing
 *   bug that skews the split must not bias the test; research/judge.md).
 * - noWorse: the mirror image, H0 "canary rate ≥ (1+δ) × baseline rate";
 *   rejecting it shows the canary within tolerance, Netflix's "conclude
 *   that, within some tolerance, there is no difference".
 * - negligible: H0 "canary rate ≥ tolerance" on the canary alone, so two
 *   arms without events (where no ratio can be shown) can pass too.
 *
 * A metric passes when noWorse or negligible rejects; each runs at half the
 * pass level, so a canary worse on both counts passes with chance ≤ α.
 */
import type { MetricSettings } from './config.js'
import { look, type Evidence, type TestId, type TestResult } from './evidence.js'
import { lnBayesFactorAbove, lnBayesFactorBelow, ratioAtShare, shareAtRatio, shareUpperBound, type BetaPrior } from './sprt.js'

/** One arm's units (requests, or timed requests) and events among them. */
export interface ArmEvents {
  readonly units: number
  readonly events: number
}

export interface MetricReport {
  readonly canary: ArmEvents
  readonly baseline: ArmEvents
  readonly canaryRate: number | undefined
  readonly baselineRate: number | undefined
  /** Observed canary rate / baseline rate; undefined without baseline events. */
  readonly ratio: number | undefined
  /** Anytime-valid upper confidence bound on the ratio at the pass level; undefined while unbounded. */
  readonly ratioUpper: number | undefined
  /** The canary's observed share of units. */
  readonly rho: number | undefined
  /** The canary's share of events at a ratio of exactly 1 + δ. */
  readonly rhoDelta: number | undefined
  readonly delta: number
  readonly tolerance: number
  readonly worse: TestResult
  readonly noWorse: TestResult
  readonly negligible: TestResult
  /** No worse within δ, or below the absolute tolerance. */
  readonly passed: boolean
}

export interface MetricInput {
  readonly name: 'errors' | 'latency'
  /** "error rate", "share of requests slower than 250 ms". */
  readonly what: string
  readonly canary: ArmEvents
  readonly baseline: ArmEvents
  readonly settings: MetricSettings
  readonly worseLevel: number
  readonly passLevel: number
  readonly prior: BetaPrior
  readonly evidence: Evidence
}

/** Events cannot outnumber their units; if a feed says so, the units were undercounted. */
function arm (a: ArmEvents): ArmEvents {
  return { units: Math.max(a.units, a.events), events: a.events }
}

const rate = (a: ArmEvents): number | undefined => a.units > 0 ? a.events / a.units : undefined

export function compareMetric (input: MetricInput): MetricReport {
  const { name, what, settings, prior, evidence } = input
  const c = arm(input.canary)
  const b = arm(input.baseline)
  const { delta, tolerance } = settings
  const comparable = c.units > 0 && b.units > 0
  const rho = comparable ? c.units / (c.units + b.units) : undefined
  const rhoDelta = rho === undefined ? undefined : shareAtRatio(rho, 1 + delta)
  const id = (test: 'worse' | 'noWorse' | 'negligible'): TestId => `${name}.${test}`
  const bound = `${fmt(1 + delta)} × the baseline's`
  const half = input.passLevel / 2
  const worse = look(id('worse'), `canary ${what} ≤ ${bound}`,
    rhoDelta === undefined ? 0 : lnBayesFactorAbove(c.events, b.events, rhoDelta, prior), evidence, input.worseLevel)
  const noWorse = look(id('noWorse'), `canary ${what} ≥ ${bound}`,
    rhoDelta === undefined ? 0 : lnBayesFactorBelow(c.events, b.events, rhoDelta, prior), evidence, half)
  const negligible = look(id('negligible'), `canary ${what} ≥ ${fmt(tolerance)}`,
    tolerance > 0 && c.units > 0 ? lnBayesFactorBelow(c.events, c.units - c.events, tolerance, prior) : 0, evidence, half)
  const canaryRate = rate(c)
  const baselineRate = rate(b)
  const upperShare = rho === undefined ? undefined : shareUpperBound(c.events, b.events, half, prior)
  return {
    canary: c,
    baseline: b,
    canaryRate,
    baselineRate,
    ratio: canaryRate !== undefined && baselineRate !== undefined && baselineRate > 0 ? canaryRate / baselineRate : undefined,
    ratioUpper: rho === undefined || upperShare === undefined ? undefined : ratioAtShare(rho, upperShare),
    rho,
    rhoDelta,
    delta,
    tolerance,
    worse,
    noWorse,
    negligible,
    passed: noWorse.rejected || negligible.rejected
  }
}

/** A rate or factor for a sentence: at most 4 significant digits. */
export function fmt (x: number): string {
  return String(Number(x.toPrecision(4)))
}
