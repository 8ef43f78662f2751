/**
 * One-sided mixture sequential probability ratio tests on a binomial share:
 * of k + m events, k fell in the first group, each with probability θ.
 *
 * Why a share: a canary's and a baseline's errors are two counting processes
 * whose intensities move together with the day's traffic. Given that an
 * event happened, the chance it came from the canary is
 *   θ = ρ·r / (ρ·r + 1 − ρ),   ρ = the canary's share of requests, r = rate ratio,
 * whatever the time-varying common rate (Lindon & Malek, "Anytime-Valid
 * Inference for Multinomial Count Data", NeurIPS 2022, §4; Netflix's
 * "Sequential A/B Testing Keeps the World Streaming Netflix, Part 2"). So a
 * test on θ is a test on r, and needs only the two counts.
 *
 * A composite null θ ≤ θ0 is tested against a prior on (θ0, 1]. For every
 * θ > θ0 each event's likelihood-ratio factor θ/θ0 or (1−θ)/(1−θ0) has
 * expectation ≤ 1 under any θ' ≤ θ0, so the prior-weighted ratio is a test
 * supermartingale and Ville's inequality bounds the chance it ever reaches
 * 1/α by α: looking after every event is allowed (Robbins 1970; Ramdas et
 * al., "Game-theoretic statistics and safe anytime-valid inference", 2023).
 * The mirror image (θ ≥ θ0 against a prior on [0, θ0)) proves "no worse".
 *
 * With a Beta(pa, pb) prior truncated to the alternative the integral is an
 * incomplete beta function:
 *   BF_above = B(k+pa, m+pb)·Q(θ0; k+pa, m+pb) / (B(pa, pb)·Q(θ0; pa, pb)) / (θ0^k (1−θ0)^m)
 * with Q = 1 − I (upper tail); BF_below uses I (lower tail).
 */
import { lnBeta, lnBetaFront, lnBetaTails } from './beta.js'

/** The Beta shape of the mixing prior, truncated to the alternative; Beta(1, 1) is uniform. */
export interface BetaPrior {
  readonly a: number
  readonly b: number
}

export const UNIFORM_PRIOR: BetaPrior = Object.freeze({ a: 1, b: 1 })

/**
 * ln BF for the given tail, θ0 strictly inside (0, 1). The likelihood at θ0
 * and B(k+pa, m+pb) are both astronomically small for large counts; their
 * quotient is e^(−front) · θ0^pa (1−θ0)^pb, with front computed near the
 * mode without cancellation (lnBetaFront).
 */
function lnMixture (k: number, m: number, theta0: number, prior: BetaPrior, tail: 'lower' | 'upper'): number {
  const a = k + prior.a
  const b = m + prior.b
  const posterior = lnBetaTails(theta0, a, b)[tail]
  // Uniform prior: its mass below θ0 is θ0 itself.
  const mass = prior.a === 1 && prior.b === 1
    ? (tail === 'lower' ? Math.log(theta0) : Math.log1p(-theta0))
    : lnBetaTails(theta0, prior.a, prior.b)[tail]
  return posterior - lnBetaFront(theta0, a, b) + prior.a * Math.log(theta0) + prior.b * Math.log1p(-theta0) -
    lnBeta(prior.a, prior.b) - mass
}

/**
 * ln of the Bayes factor for "θ > θ0" against H0 "θ ≤ θ0". 0 (no evidence)
 * without events, or when θ0 ≥ 1, where H0 holds whatever happens; at
 * θ0 ≤ 0 one canary event refutes H0 (+∞) and none gives the prior's
 * average of (1−θ)^m.
 */
export function lnBayesFactorAbove (k: number, m: number, theta0: number, prior: BetaPrior = UNIFORM_PRIOR): number {
  if (!(theta0 < 1) || k + m === 0) return 0
  if (!(theta0 > 0)) return k > 0 ? Infinity : lnBeta(prior.a, m + prior.b) - lnBeta(prior.a, prior.b)
  return lnMixture(k, m, theta0, prior, 'upper')
}

/** ln of the Bayes factor for "θ < θ0" against H0 "θ ≥ θ0"; the mirror image of lnBayesFactorAbove. */
export function lnBayesFactorBelow (k: number, m: number, theta0: number, prior: BetaPrior = UNIFORM_PRIOR): number {
  if (!(theta0 > 0) || k + m === 0) return 0
  if (!(theta0 < 1)) return m > 0 ? Infinity : lnBeta(k + prior.a, prior.b) - lnBeta(prior.a, prior.b)
  return lnMixture(k, m, theta0, prior, 'lower')
}

/** The share of events in the canary when its rate is `ratio` × the baseline's and it gets a share ρ of the requests. */
export function shareAtRatio (rho: number, ratio: number): number {
  return rho * ratio / (rho * ratio + 1 - rho)
}

/** The rate ratio that makes the canary's share of events θ, at request share ρ (the inverse of shareAtRatio). */
export function ratioAtShare (rho: number, theta: number): number {
  return theta * (1 - rho) / (rho * (1 - theta))
}

/**
 * An anytime-valid upper confidence bound on θ: the smallest θ0 whose
 * "θ ≥ θ0" the below-test rejects at `level`, found as a root. Inverting a
 * family of tests each valid at its own θ0 gives a confidence sequence
 * (Howard et al., "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences", 2021, §2). At the estimate k/(k+m) the factor is ≤ 1 (the
 * likelihood peaks there) and above it the factor rises, so the crossing is
 * unique where it matters. Undefined without events in the second group
 * (m = 0), where no θ0 < 1 is ever rejected; 1 when the bound is closer to 1
 * than the search resolves.
 */
export function shareUpperBound (k: number, m: number, level: number, prior: BetaPrior = UNIFORM_PRIOR): number | undefined {
  if (m === 0) return undefined
  const target = -Math.log(level)
  const excess = (theta0: number): number => lnBayesFactorBelow(k, m, theta0, prior) - target
  const n = k + m
  const estimate = k / n
  // Bracket by doubling steps of about one standard error above the estimate...
  let step = Math.sqrt((estimate * (1 - estimate) + 1 / n) / n)
  let lo = estimate
  let fLo = excess(lo)
  let hi = Math.min(1, estimate + step)
  let fHi = excess(hi)
  while (fHi < 0) {
    lo = hi
    fLo = fHi
    step *= 2
    hi = Math.min(1, estimate + step)
    fHi = excess(hi)
  }
  // ...then the Illinois variant of regula falsi (Dowell & Jarratt 1971): ln BF is
  // smooth in θ0, so ~6 evaluations reach 1e-6 of the bound's distance from the
  // estimate where bisection takes ~20; each evaluation costs O(√n) for large counts.
  const resolution = 1e-6 * (hi - estimate)
  let side = 0
  while (hi - lo > resolution) {
    let mid = Number.isFinite(fHi) ? hi - fHi * (hi - lo) / (fHi - fLo) : (lo + hi) / 2
    if (!(mid > lo && mid < hi)) mid = (lo + hi) / 2
    const f = excess(mid)
    if (f >= 0) {
      hi = mid
      fHi = f
      if (side === 1) fLo /= 2
      side = 1
    } else {
      lo = mid
      fLo = f
      if (side === -1) fHi /= 2
      side = -1
    }
  }
  return hi
}
