/**
 * Canary against baseline on one kind of event (errors, or requests slower
 * than the step's threshold): three tests on the same two counts.
 *
 * - worse: H0 "canary rate ≤ (1+δ) × baseline rate", rejected → roll back.
 *   Under H0 an event falls in the canary with chance ≤ ρ_δ = shareAtRatio(ρ, 1+δ),
 *   ρ the chance that a request goes to the canary. ρ is taken from the
 *   OBSERVED requests, not the weight, so a routing bug that skews the split
 *   cannot bias the test (research/judge.md) — but as an anytime-valid
 *   confidence bound, not the raw share: with 2 canary requests in 200 the
 *   raw share can be half the true one, and one canary error would then
 *   look like strong evidence (the simulation rolled back healthy canaries
 *   after a single request that way). The worse test uses the upper bound
 *   ρ⁺ (a larger ρ only makes H0 easier to keep), noWorse the lower bound ρ⁻;
 *   each bound takes a tenth of its test's level, so a test and its bound
 *   together still err with chance ≤ the level.
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
  /** Anytime-valid upper confidence bound on the ratio (at ρ⁻ and noWorse's level); undefined while unbounded. */
  readonly ratioUpper: number | undefined
  /** The canary's observed share of units, and the anytime-valid bounds on its true share. */
  readonly rho: number | undefined
  readonly rhoLower: number | undefined
  readonly rhoUpper: number | undefined
  /** The canary's share of events at a ratio of exactly 1 + δ and the observed ρ. */
  readonly rhoDelta: number | undefined
  /** The same at ρ⁺ and ρ⁻: the boundaries the worse and noWorse tests test at. */
  readonly worseShare: number | undefined
  readonly passShare: number | undefined
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

/** The share of a test's level spent on the confidence bound of ρ it tests at. */
const SHARE_BOUND_FRACTION = 0.1

export function compareMetric (input: MetricInput): MetricReport {
  const { name, what, settings, prior, evidence } = input
  const c = arm(input.canary)
  const b = arm(input.baseline)
  const { delta, tolerance } = settings
  const comparable = c.units > 0 && b.units > 0
  const half = input.passLevel / 2
  const worseLevel = input.worseLevel * (1 - SHARE_BOUND_FRACTION)
  const passLevel = half * (1 - SHARE_BOUND_FRACTION)
  // Anytime-valid bounds on the chance a unit goes to the canary (units are the draws).
  const rhoUpper = comparable ? shareUpperBound(c.units, b.units, input.worseLevel * SHARE_BOUND_FRACTION) : undefined
  const lowerFromBaseline = comparable ? shareUpperBound(b.units, c.units, half * SHARE_BOUND_FRACTION) : undefined
  const rhoLower = lowerFromBaseline === undefined ? undefined : 1 - lowerFromBaseline
  const worseShare = rhoUpper === undefined ? undefined : shareAtRatio(rhoUpper, 1 + delta)
  const passShare = rhoLower === undefined ? undefined : shareAtRatio(rhoLower, 1 + delta)
  const id = (test: 'worse' | 'noWorse' | 'negligible'): TestId => `${name}.${test}`
  const bound = `${fmt(1 + delta)} × the baseline's`
  const worse = look(id('worse'), `canary ${what} ≤ ${bound}`,
    worseShare === undefined ? 0 : lnBayesFactorAbove(c.events, b.events, worseShare, prior), evidence, worseLevel)
  const noWorse = look(id('noWorse'), `canary ${what} ≥ ${bound}`,
    passShare === undefined ? 0 : lnBayesFactorBelow(c.events, b.events, passShare, prior), evidence, passLevel)
  const negligible = look(id('negligible'), `canary ${what} ≥ ${fmt(tolerance)}`,
    tolerance > 0 && c.units > 0 ? lnBayesFactorBelow(c.events, c.units - c.events, tolerance, prior) : 0, evidence, half)
  const canaryRate = rate(c)
  const baselineRate = rate(b)
  const rho = comparable ? c.units / (c.units + b.units) : undefined
  const upperShare = rhoLower === undefined ? undefined : shareUpperBound(c.events, b.events, passLevel, prior)
  return {
    canary: c,
    baseline: b,
    canaryRate,
    baselineRate,
    ratio: canaryRate !== undefined && baselineRate !== undefined && baselineRate > 0 ? canaryRate / baselineRate : undefined,
    ratioUpper: rhoLower === undefined || rhoLower <= 0 || upperShare === undefined || upperShare >= 1 ? undefined : ratioAtShare(rhoLower, upperShare),
    rho,
    rhoLower,
    rhoUpper,
    rhoDelta: rho === undefined ? undefined : shareAtRatio(rho, 1 + delta),
    worseShare,
    passShare,
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
