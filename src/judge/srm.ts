/**
 * Sample-ratio mismatch: does the canary get the share of units its weight
 * says? A sticky-hashing or routing bug shows here first, and it makes every
 * other comparison suspect, so a mismatch pauses the rollout.
 *
 * Each unit is a draw that lands in the canary with chance p; the check is a
 * sequential test of p against the weight w, valid at every look, as Lindon &
 * Malek's multinomial test (NeurIPS 2022, §3; its SRM application) and the
 * "SRM check" of Azure's online-experimentation-analysis. Here it is two of
 * the judge's one-sided mixture SPRTs, each at half the level:
 *   H0 "p ≤ high edge" and H0 "p ≥ low edge",
 * the edges being w with its odds multiplied and divided by (1 + tolerance);
 * with tolerance 0 that is the two-sided test of p = w.
 */
import { look, type Evidence, type TestResult } from './evidence.js'
import { fmt } from './compare.js'
import { lnBayesFactorAbove, lnBayesFactorBelow, shareAtRatio, type BetaPrior } from './sprt.js'

export interface SrmReport {
  /** The canary's configured share of the two arms' traffic. */
  readonly weight: number
  readonly tolerance: number
  readonly canaryUnits: number
  readonly baselineUnits: number
  /** The canary's observed share of units. */
  readonly observed: number | undefined
  /** H0: the canary's share ≥ the low edge. */
  readonly low: TestResult
  /** H0: the canary's share ≤ the high edge. */
  readonly high: TestResult
  readonly mismatch: boolean
}

export interface SrmInput {
  readonly canaryUnits: number
  readonly baselineUnits: number
  readonly weight: number
  readonly tolerance: number
  /** For the pair of tests together. */
  readonly level: number
  readonly prior: BetaPrior
  readonly evidence: Evidence
}

export function checkSampleRatio (input: SrmInput): SrmReport {
  const { canaryUnits: k, baselineUnits: m, weight: w, tolerance, prior, evidence } = input
  // A weight of 0 or 1 leaves one arm without traffic by design: nothing to check.
  const checkable = w > 0 && w < 1
  const highEdge = shareAtRatio(w, 1 + tolerance)
  const lowEdge = shareAtRatio(w, 1 / (1 + tolerance))
  const level = input.level / 2
  const low = look('srm.low', `canary share ≥ ${fmt(100 * lowEdge)} %`, checkable ? lnBayesFactorBelow(k, m, lowEdge, prior) : 0, evidence, level)
  const high = look('srm.high', `canary share ≤ ${fmt(100 * highEdge)} %`, checkable ? lnBayesFactorAbove(k, m, highEdge, prior) : 0, evidence, level)
  return {
    weight: w,
    tolerance,
    canaryUnits: k,
    baselineUnits: m,
    observed: k + m > 0 ? k / (k + m) : undefined,
    low,
    high,
    mismatch: low.rejected || high.rejected
  }
}
