/**
 * A step of a rollout as the judge sees it: the weight, when it started, the
 * counter readings at its start, and what was frozen then — the latency
 * threshold and the guardrail's bound. Freezing before the step's data
 * arrives is what keeps the latency test valid: the threshold cannot adapt
 * to the canary (research/judge.md, "tail-exceedance count test").
 */
import type { JudgeConfig } from './config.js'
import { boundAtOrAbove, boundsOf, histogramQuantile, observed, type Buckets, type Counters } from './counters.js'
import type { Evidence } from './evidence.js'

export interface Threshold {
  /** Requests slower than this many seconds are slow. Always a histogram bound, so counts are exact. */
  readonly seconds: number
  /** The baseline's quantile over the window before the step, or the configured SLO. */
  readonly source: 'baseline' | 'slo'
  /** The baseline's quantile estimate (histogram_quantile) or the SLO it was rounded up from. */
  readonly from: number
}

export interface Step {
  readonly config: JudgeConfig
  /** The canary's configured share of the canary + baseline traffic, in [0, 1]. */
  readonly weight: number
  /** When the step started, in ms on the caller's clock (min-step and max-step count from here). */
  readonly startedAt: number
  /** Counter readings when the step started, or resumed after a restart. */
  readonly start: Counters
  /** Counts of this step from before a restart, added to the window. */
  readonly carried: Counters | undefined
  /** Undefined: latency is not judged (no baseline data before the step and no SLO). */
  readonly threshold: Threshold | undefined
  /** The histogram bound the latency guardrail counts over; undefined when none is ≥ its limit. */
  readonly guardrailBound: number | undefined
  /** Running-minimum p-values of the earlier looks; store Verdict.evidence here after each look. */
  readonly evidence: Evidence
}

export interface StepStart {
  readonly config: JudgeConfig
  readonly weight: number
  readonly now: number
  /** Readings at the start. */
  readonly counters: Counters
  /**
   * The baseline's duration histogram over the window before the step (a
   * difference of two readings, see since()); the threshold is its quantile.
   */
  readonly previousBaseline?: Buckets
  /** Resuming a step after a restart: when it first started, its counts and evidence so far. */
  readonly startedAt?: number
  readonly carried?: Counters
  readonly evidence?: Evidence
}

/**
 * The latency threshold: the configured SLO, else the baseline's quantile
 * over the previous window, rounded up to a histogram bound. Rounding up
 * keeps "slow" meaning "slower than the baseline's p99" (at most 1 % of its
 * requests); the bound makes the slow count an exact counter difference.
 * (An estimate in `+Inf` is the last finite bound, as histogram_quantile says.)
 */
export function freezeThreshold (config: JudgeConfig, bounds: readonly number[], previousBaseline: Buckets | undefined): Threshold | undefined {
  if (config.sloSeconds !== undefined) {
    // An SLO beyond the last finite bound is judged at that bound: still one threshold for both arms.
    const seconds = boundAtOrAbove(bounds, config.sloSeconds) ?? bounds.at(-1)
    return seconds === undefined ? undefined : { seconds, source: 'slo', from: config.sloSeconds }
  }
  if (previousBaseline === undefined || observed(previousBaseline) === 0) return undefined
  const estimate = histogramQuantile(config.quantile, previousBaseline)
  if (estimate === undefined) return undefined
  const seconds = boundAtOrAbove(bounds, estimate)
  return seconds === undefined ? undefined : { seconds, source: 'baseline', from: estimate }
}

export function startStep (s: StepStart): Step {
  const bounds = boundsOf(s.counters.baseline.buckets.size > 0 ? s.counters.baseline.buckets : s.counters.canary.buckets)
  const { maxLatencySeconds } = s.config
  return {
    config: s.config,
    weight: s.weight,
    startedAt: s.startedAt ?? s.now,
    start: s.counters,
    carried: s.carried,
    threshold: freezeThreshold(s.config, bounds, s.previousBaseline),
    guardrailBound: maxLatencySeconds === undefined ? undefined : boundAtOrAbove(bounds, maxLatencySeconds),
    evidence: s.evidence ?? {}
  }
}
