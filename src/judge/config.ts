/**
 * The judge's settings, their defaults and their checks. Defaults follow
 * issue 14 and research/judge.md: α 0.05 and δ 0.5; min-step 1 min and
 * max-step 10 min as the rollout CLI's defaults; the latency threshold at the
 * baseline's p99.
 *
 * The absolute tolerances are what lets a healthy canary pass at ordinary
 * traffic. Showing a ratio within 1 + δ takes events, and at the rates a
 * healthy service has (0.5 % errors; 1 % of requests over its own p99) that
 * is 100 000+ requests per step (docs/judge-simulation.md, "tolerance
 * off"), so with δ alone most steps would pause at max-step. 1 % errors is
 * the success-rate floor Flagger's docs and examples use (99 %); 2 % slow
 * requests lets the canary's p98 reach the baseline's p99. A canary under
 * them passes on a few thousand requests; one above them still needs the
 * ratio, and the worse test runs alongside either way.
 */
import { UNIFORM_PRIOR, type BetaPrior } from './sprt.js'

export interface MetricSettings {
  /**
   * Relative tolerance: the canary is "worse" only when its rate exceeds
   * (1 + δ) × the baseline's, and "no worse" once shown below that.
   */
  readonly delta: number
  /**
   * Absolute tolerance, as Diffy's absolute threshold: a canary whose rate
   * is shown below this is no worse whatever the baseline's (two clean arms
   * can never show a ratio). 0 turns it off.
   */
  readonly tolerance: number
}

export interface JudgeConfig {
  /** Chance of rolling back a canary that is no worse (per step; split over the rollback tests). */
  readonly alpha: number
  readonly errors: MetricSettings
  /** On the share of requests slower than the step's threshold. */
  readonly latency: MetricSettings
  /** The quantile behind the latency threshold and the p99 guardrail (0.99). */
  readonly quantile: number
  /** A fixed latency threshold (seconds) instead of the baseline's quantile over the previous window. */
  readonly sloSeconds: number | undefined
  /** Requests each arm needs before a step can pass. */
  readonly minRequests: number
  readonly minStepMs: number
  /** A step not decided by then is inconclusive: pause, never roll back. */
  readonly maxStepMs: number
  /** Guardrail: a canary error rate shown above this is critical. */
  readonly maxErrorRate: number | undefined
  /** Guardrail: a canary whose `quantile` duration is shown above this (seconds) is critical. */
  readonly maxLatencySeconds: number | undefined
  /**
   * Sample-ratio check: its own level, far below α as SRM checks use
   * (GrowthBook flags at p < 0.001): a mismatch pauses every rollout it
   * hits, so it must be a bug, not chance.
   */
  readonly srmAlpha: number
  /**
   * Sample-ratio check: relative tolerance on the canary's odds of getting a
   * unit against its weight's odds. 0 flags any mismatch beyond chance;
   * sticky routes counted in requests need more (one user, many requests).
   */
  readonly srmTolerance: number
  /** Shape of the mixing prior over the alternative (truncated Beta); uniform by default. */
  readonly prior: BetaPrior
}

export const DEFAULT_JUDGE_CONFIG: JudgeConfig = Object.freeze({
  alpha: 0.05,
  errors: Object.freeze({ delta: 0.5, tolerance: 0.01 }),
  latency: Object.freeze({ delta: 0.5, tolerance: 0.02 }),
  quantile: 0.99,
  sloSeconds: undefined,
  minRequests: 100,
  minStepMs: 60_000,
  maxStepMs: 600_000,
  maxErrorRate: undefined,
  maxLatencySeconds: undefined,
  srmAlpha: 0.001,
  srmTolerance: 0,
  prior: UNIFORM_PRIOR
})

export type JudgeSettings = Partial<Omit<JudgeConfig, 'errors' | 'latency' | 'prior'>> & {
  readonly errors?: Partial<MetricSettings>
  readonly latency?: Partial<MetricSettings>
  readonly prior?: BetaPrior
}

/** Settings over the defaults; check them with judgeConfigProblems(). */
export function judgeConfig (settings: JudgeSettings = {}): JudgeConfig {
  const d = DEFAULT_JUDGE_CONFIG
  return Object.freeze({
    ...d,
    ...settings,
    errors: Object.freeze({ ...d.errors, ...settings.errors }),
    latency: Object.freeze({ ...d.latency, ...settings.latency }),
    prior: Object.freeze({ ...(settings.prior ?? d.prior) })
  })
}

type Check = readonly [path: string, value: number | undefined, ok: (v: number) => boolean, what: string]

const open01 = (v: number): boolean => v > 0 && v < 1
const nonNegative = (v: number): boolean => v >= 0
const positive = (v: number): boolean => v > 0

/**
 * Every problem of a config, as "path: what it must be". The caller turns
 * them into its coded errors; a judge is never built from a config with
 * problems, so no rule below has to guard against them.
 */
export function judgeConfigProblems (c: JudgeConfig): string[] {
  const checks: Check[] = [
    ['alpha', c.alpha, open01, 'between 0 and 1'],
    ['errors.delta', c.errors.delta, nonNegative, '≥ 0'],
    ['errors.tolerance', c.errors.tolerance, v => v >= 0 && v < 1, 'in [0, 1)'],
    ['latency.delta', c.latency.delta, nonNegative, '≥ 0'],
    ['latency.tolerance', c.latency.tolerance, v => v >= 0 && v < 1, 'in [0, 1)'],
    ['quantile', c.quantile, open01, 'between 0 and 1'],
    ['sloSeconds', c.sloSeconds, positive, '> 0'],
    ['minRequests', c.minRequests, v => Number.isInteger(v) && v >= 0, 'a whole number ≥ 0'],
    ['minStepMs', c.minStepMs, nonNegative, '≥ 0'],
    ['maxStepMs', c.maxStepMs, v => v >= c.minStepMs, `≥ minStepMs (${c.minStepMs})`],
    ['maxErrorRate', c.maxErrorRate, open01, 'between 0 and 1'],
    ['maxLatencySeconds', c.maxLatencySeconds, positive, '> 0'],
    ['srmAlpha', c.srmAlpha, open01, 'between 0 and 1'],
    ['srmTolerance', c.srmTolerance, nonNegative, '≥ 0'],
    ['prior.a', c.prior.a, positive, '> 0'],
    ['prior.b', c.prior.b, positive, '> 0']
  ]
  const problems: string[] = []
  for (const [path, value, ok, what] of checks) {
    if (value === undefined) continue
    if (!Number.isFinite(value) || !ok(value)) problems.push(`${path}: ${String(value)} is not ${what}`)
  }
  return problems
}
