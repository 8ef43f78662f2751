/**
 * What judge() returns: the outcome, the rule that decided it in one
 * sentence, and every number behind it, so `rollout status` can show why
 * (Kayenta users could not: spinnaker/kayenta#521). Plain data: numbers
 * are finite (a Bayes factor is capped at the largest double), and a
 * quantity that does not exist yet — a ratio without baseline events — is
 * `undefined`, so JSON.stringify keeps every number it has.
 */
import type { MetricReport } from './compare.js'
import type { Evidence } from './evidence.js'
import type { GuardrailReport } from './guardrails.js'
import type { SrmReport } from './srm.js'
import type { Threshold } from './step.js'

export type Outcome = 'worse' | 'pass' | 'inconclusive-continue' | 'inconclusive-timeout' | 'srm' | 'critical'

/** One arm's counts over the step's window. */
export interface ArmWindow {
  readonly requests: number
  /** 5xx answers and (canary) failovers. */
  readonly errors: number
  /** Requests with a recorded duration. */
  readonly timed: number
  /** Of those, slower than the step's threshold; undefined when latency is not judged. */
  readonly slow: number | undefined
}

export interface Exposure {
  /** Both arms have minRequests and the step has run minStepMs. */
  readonly met: boolean
  readonly minRequests: number
  readonly minStepMs: number
  readonly maxStepMs: number
  readonly elapsedMs: number
}

/** Which rule decided a verdict. */
export type Rule =
  | 'guardrail-error-rate' | 'guardrail-latency'
  | 'errors-worse' | 'latency-worse'
  | 'sample-ratio'
  | 'no-worse'
  | 'max-step'
  | 'waiting'

export interface Verdict {
  readonly outcome: Outcome
  /** The rule that decided, and the numbers behind it in one sentence. */
  readonly rule: Rule
  readonly reason: string
  readonly at: number
  readonly alpha: number
  readonly weight: number
  readonly canary: ArmWindow
  readonly baseline: ArmWindow
  /** The canary's observed share of requests. */
  readonly rho: number | undefined
  readonly threshold: Threshold | undefined
  readonly errors: MetricReport
  /** Undefined: latency is not judged this step (see Step.threshold). */
  readonly latency: MetricReport | undefined
  readonly srm: SrmReport
  readonly guardrails: readonly GuardrailReport[]
  readonly exposure: Exposure
  /** Store in the step (Step.evidence) before the next look. */
  readonly evidence: Evidence
}
