/**
 * Absolute guardrails, the critical kill-switch (Kayenta's "critical"
 * metrics): a canary shown to break a fixed limit is rolled back whatever
 * the baseline does. "Shown" is the same anytime-valid test as the rest of
 * the judge, on the canary alone — H0 "rate ≤ limit" — so two errors in the
 * first three requests are not a 67 % error rate, and a dead canary (every
 * request fails) still trips it within a handful of requests.
 *
 * The latency guardrail "the canary's q-quantile ≤ L" is the same as "at
 * most 1 − q of its requests are slower than L", counted over the smallest
 * histogram bound ≥ L (so every counted request is certainly over L).
 */
import { fmt } from './compare.js'
import { exceedances, histogramQuantile, observed, type ArmCounters } from './counters.js'
import { look, type Evidence, type TestResult } from './evidence.js'
import { lnBayesFactorAbove, type BetaPrior } from './sprt.js'

export interface GuardrailReport {
  readonly name: 'errorRate' | 'latency'
  /** The limit: an error rate, or seconds. */
  readonly limit: number
  /** The canary's error rate, or its quantile estimated from the histogram (seconds). */
  readonly observed: number | undefined
  /** Errors, or requests slower than `bound`. */
  readonly events: number
  readonly units: number
  /** For latency: the histogram bound the count is taken over. */
  readonly bound: number | undefined
  readonly test: TestResult
}

export interface GuardrailInput {
  readonly canary: ArmCounters
  readonly maxErrorRate: number | undefined
  readonly maxLatencySeconds: number | undefined
  /** The smallest histogram bound ≥ maxLatencySeconds, frozen at step start. */
  readonly latencyBound: number | undefined
  readonly quantile: number
  readonly level: number
  readonly prior: BetaPrior
  readonly evidence: Evidence
}

/** How many guardrails are set: each one takes a share of the rollback level. */
export function guardrailCount (maxErrorRate: number | undefined, latencyBound: number | undefined): number {
  return (maxErrorRate === undefined ? 0 : 1) + (latencyBound === undefined ? 0 : 1)
}

export function checkGuardrails (input: GuardrailInput): GuardrailReport[] {
  const { canary, quantile, level, prior, evidence } = input
  const out: GuardrailReport[] = []
  if (input.maxErrorRate !== undefined) {
    const limit = input.maxErrorRate
    const units = Math.max(canary.requests, canary.errors)
    const events = canary.errors
    out.push({
      name: 'errorRate',
      limit,
      observed: units > 0 ? events / units : undefined,
      events,
      units,
      bound: undefined,
      test: look('guardrail.errorRate', `canary error rate ≤ ${fmt(limit)}`, lnBayesFactorAbove(events, units - events, limit, prior), evidence, level)
    })
  }
  if (input.maxLatencySeconds !== undefined && input.latencyBound !== undefined) {
    const units = observed(canary.buckets)
    const events = exceedances(canary.buckets, input.latencyBound)
    const share = 1 - quantile
    out.push({
      name: 'latency',
      limit: input.maxLatencySeconds,
      observed: histogramQuantile(quantile, canary.buckets),
      events,
      units,
      bound: input.latencyBound,
      test: look('guardrail.latency', `canary share slower than ${fmt(input.latencyBound)} s ≤ ${fmt(share)}`,
        lnBayesFactorAbove(events, units - events, share, prior), evidence, level)
    })
  }
  return out
}
