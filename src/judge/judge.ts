/**
 * judge(step, counters, now) → Verdict: canary against baseline over the
 * step's window, every few seconds. Pure: time comes in as `now`, counts as
 * counter readings; nothing here reads a clock, a socket or a random source.
 *
 * Outcomes, first match wins:
 *   critical   a guardrail is shown broken                    → roll back
 *   worse      errors or slow requests shown > (1+δ) × baseline → roll back
 *   srm        the canary's share is shown off its weight      → pause
 *   pass       minimum exposure met, and every judged metric shown no worse
 *              within δ (or under its absolute tolerance)      → next step
 *   inconclusive-timeout   max-step reached without the above → pause, never roll back
 *   inconclusive-continue  otherwise                          → keep looking
 *
 * Levels: the rollback tests (errors, latency when judged, each guardrail)
 * share α equally (Bonferroni), so a canary that is no worse and within its
 * guardrails is rolled back in a step with chance ≤ α however often it is
 * judged; each metric's pass tests share α too (compare.ts). The
 * sample-ratio check has its own, smaller level (config.srmAlpha).
 */
import { compareMetric, fmt } from './compare.js'
import { exceedances, observed, plus, since, type ArmCounters, type Counters } from './counters.js'
import { evidenceOf, type TestResult } from './evidence.js'
import { explain } from './explain.js'
import { checkGuardrails, guardrailCount } from './guardrails.js'
import { checkSampleRatio } from './srm.js'
import type { Step, Threshold } from './step.js'
import type { ArmWindow, Exposure, Verdict } from './verdict.js'

function armWindow (a: ArmCounters, threshold: Threshold | undefined): ArmWindow {
  const requests = Math.max(a.requests, a.errors)
  const timed = observed(a.buckets)
  return { requests, errors: a.errors, timed, slow: threshold === undefined ? undefined : exceedances(a.buckets, threshold.seconds) }
}

export function judge (step: Step, counters: Counters, now: number): Verdict {
  const { config, threshold, evidence } = step
  const window = step.carried === undefined ? since(counters, step.start) : plus(step.carried, since(counters, step.start))
  const canary = armWindow(window.canary, threshold)
  const baseline = armWindow(window.baseline, threshold)
  const elapsedMs = Number.isFinite(now - step.startedAt) ? Math.max(0, now - step.startedAt) : 0

  const rollbackTests = 1 + (threshold === undefined ? 0 : 1) + guardrailCount(config.maxErrorRate, step.guardrailBound)
  const rollbackLevel = config.alpha / rollbackTests
  const common = { passLevel: config.alpha, worseLevel: rollbackLevel, prior: config.prior, evidence }
  const errors = compareMetric({
    ...common,
    name: 'errors',
    what: 'error rate',
    canary: { units: canary.requests, events: canary.errors },
    baseline: { units: baseline.requests, events: baseline.errors },
    settings: config.errors
  })
  const latency = threshold === undefined
    ? undefined
    : compareMetric({
      ...common,
      name: 'latency',
      what: `share slower than ${fmt(threshold.seconds)} s`,
      canary: { units: canary.timed, events: canary.slow ?? 0 },
      baseline: { units: baseline.timed, events: baseline.slow ?? 0 },
      settings: config.latency
    })
  // Sticky routes may count assignments instead of requests; both arms or neither.
  const byUnits = window.canary.units !== undefined && window.baseline.units !== undefined
  const srm = checkSampleRatio({
    canaryUnits: byUnits ? window.canary.units ?? 0 : canary.requests,
    baselineUnits: byUnits ? window.baseline.units ?? 0 : baseline.requests,
    weight: step.weight,
    tolerance: config.srmTolerance,
    level: config.srmAlpha,
    prior: config.prior,
    evidence
  })
  const guardrails = checkGuardrails({
    canary: window.canary,
    maxErrorRate: config.maxErrorRate,
    maxLatencySeconds: config.maxLatencySeconds,
    latencyBound: step.guardrailBound,
    quantile: config.quantile,
    level: rollbackLevel,
    prior: config.prior,
    evidence
  })
  const exposure: Exposure = {
    met: canary.requests >= config.minRequests && baseline.requests >= config.minRequests && elapsedMs >= config.minStepMs,
    minRequests: config.minRequests,
    minStepMs: config.minStepMs,
    maxStepMs: config.maxStepMs,
    elapsedMs
  }

  const tests: TestResult[] = [errors.worse, errors.noWorse, errors.negligible, srm.low, srm.high, ...guardrails.map(g => g.test)]
  if (latency !== undefined) tests.push(latency.worse, latency.noWorse, latency.negligible)
  const decided = explain({ canary, baseline, errors, latency, srm, guardrails, exposure })
  return {
    ...decided,
    at: now,
    alpha: config.alpha,
    weight: step.weight,
    canary,
    baseline,
    rho: errors.rho,
    threshold,
    errors,
    latency,
    srm,
    guardrails,
    exposure,
    evidence: evidenceOf(tests)
  }
}
