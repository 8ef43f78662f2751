/**
 * A rollout as the control plane keeps it: what was asked (route, canary,
 * baseline, steps, gates, judge settings), where it stands (phase, step,
 * why it paused or ended) and what the judge has seen in the current step
 * (the counts, the evidence, the frozen threshold, the last verdict). It is
 * plain JSON, persisted after every change (store.ts), so a restart or a
 * new leader resumes the same step with the same evidence.
 *
 * Phases follow Argo Rollouts: Progressing (a step is running and judged),
 * Paused (waits for an operator: a manual gate, an inconclusive or
 * sample-ratio verdict, a pause, or someone else's edit of the route),
 * Succeeded (the canary takes all of the route's traffic), Aborted (the
 * starting weights are back).
 */
import type { JudgeSettings } from '../../judge/config.js'
import type { ArmCounters, Buckets, Counters } from '../../judge/counters.js'
import type { Evidence } from '../../judge/evidence.js'
import type { Threshold } from '../../judge/step.js'
import type { Verdict } from '../../judge/verdict.js'

export const PHASES = ['Progressing', 'Paused', 'Succeeded', 'Aborted'] as const
export type Phase = typeof PHASES[number]

/** Why a rollout is paused. */
export type PauseReason = 'manual' | 'gate' | 'inconclusive' | 'sample-ratio' | 'edited'

/** Why a rollout was aborted. */
export type AbortReason = 'worse' | 'critical' | 'manual'

/** What the operator (or `rollout start`) asks for. */
export interface RolloutSpec {
  readonly route: string
  readonly canary: string
  /** The backend the canary is judged against; default the route's heaviest other backend. */
  readonly baseline?: string
  /** The canary's percentages of the route's default split, increasing, e.g. [5, 25, 50, 100]. */
  readonly steps: readonly number[]
  /** Percentages after whose step the rollout waits for `resume` (Argo's `pause: {}`). */
  readonly pauseAt?: readonly number[]
  /** Judge settings over the defaults (docs/judge.md); minStepMs/maxStepMs are --min-step/--max-step. */
  readonly judge?: JudgeSettings
}

/** A counter reading as JSON: bucket maps as [bound, count] pairs, `+Inf` as the string. */
export interface ArmJson {
  readonly requests: number
  readonly errors: number
  readonly buckets: ReadonlyArray<readonly [number | '+Inf', number]>
  readonly units?: number
}
export interface CountersJson {
  readonly canary: ArmJson
  readonly baseline: ArmJson
}

/** The step being judged. */
export interface StepState {
  /** Index into `steps`. */
  readonly index: number
  /** The canary's share of canary + baseline traffic this step (what the judge's sample-ratio check expects). */
  readonly share: number
  /** When the judgement of this step began, on the controller's clock (ms). */
  readonly startedAt: number
  /** The threshold frozen at the step's start (undefined: latency not judged). */
  readonly threshold: Threshold | undefined
  readonly guardrailBound: number | undefined
  /** The step's counts so far (all processes and restarts together), as of the last look. */
  readonly counted: CountersJson | undefined
  /**
   * In a fleet: each member's cumulative counters at the last look, so the
   * next look, on whichever replica leads then, adds each one's increase.
   * Undefined outside a fleet, and before a step's first look in one.
   */
  readonly marks?: Readonly<Record<string, CountersJson>>
  /** The running-minimum p-values of the step's looks. */
  readonly evidence: Evidence
  /** Time spent paused during this step (manual pauses do not count toward min- and max-step). */
  readonly pausedMs: number
}

/** One decision, as `rollout status` lists them. */
export interface DecisionEntry {
  readonly at: string
  readonly step: number
  readonly weight: number
  readonly outcome: string
  readonly rule: string
  readonly reason: string
  readonly action: string
}

export interface RolloutState {
  readonly route: string
  readonly canary: string
  readonly baseline: string
  readonly steps: readonly number[]
  readonly pauseAt: readonly number[]
  readonly judge: JudgeSettings
  /** The route's default-split weights when the rollout started: what abort restores. */
  readonly startWeights: Readonly<Record<string, number>>
  readonly startRevision: number
  readonly phase: Phase
  readonly pauseReason?: PauseReason
  readonly abortReason?: AbortReason
  /** The latest news in one sentence: why it paused, aborted or finished. */
  readonly message: string
  readonly step: StepState
  /** The canary's current percentage of the route. */
  readonly weight: number
  /** The config revision the rollout last wrote or accepted, and the route as it was then (JSON). */
  readonly revision: number
  readonly routeConfig: string
  /** The current step's last verdict, with every number behind it. */
  readonly lastVerdict?: Verdict
  readonly decisions: readonly DecisionEntry[]
  readonly createdAt: string
  readonly updatedAt: string
  /** When the current pause began (ms on the controller's clock). */
  readonly pausedAt?: number
}

/** How many decisions a rollout keeps for `rollout status`. */
export const DECISIONS_KEPT = 20

export const isActive = (s: RolloutState): boolean => s.phase === 'Progressing' || s.phase === 'Paused'

function armToJson (a: ArmCounters): ArmJson {
  return { requests: a.requests, errors: a.errors, buckets: [...a.buckets].map(([le, n]) => [le === Infinity ? '+Inf' : le, n] as const), ...(a.units === undefined ? {} : { units: a.units }) }
}

function armFromJson (a: ArmJson): ArmCounters {
  const buckets: Map<number, number> = new Map(a.buckets.map(([le, n]) => [le === '+Inf' ? Infinity : le, n]))
  return { requests: a.requests, errors: a.errors, buckets: buckets as Buckets, ...(a.units === undefined ? {} : { units: a.units }) }
}

export function countersToJson (c: Counters): CountersJson {
  return { canary: armToJson(c.canary), baseline: armToJson(c.baseline) }
}

export function countersFromJson (c: CountersJson): Counters {
  return { canary: armFromJson(c.canary), baseline: armFromJson(c.baseline) }
}
