/**
 * `switchyard ramp ROUTE BACKEND --steps 10,25,50,100 --interval 5m`: the
 * old CLI-loop ramp, now a thin wrapper over `switchyard rollout start …
 * --watch`. The rollout runs in switchyard's control plane and is judged
 * canary against baseline (docs/rollouts.md); the flags map onto it:
 * `--interval` is the minimum time per step, `--max-error-rate` and
 * `--max-p99` become the judge's guardrails, `--min-requests` the requests
 * each arm needs. Exit codes stay: 0 done, 1 refused, 3 someone else
 * changed the route (the rollout paused and left their change), 4 rolled
 * back; and 5 when the rollout paused for an operator (an inconclusive
 * step, a sample-ratio mismatch).
 */
import { output } from './output.js'
import { rolloutStartCommand } from './rollout.js'

/** As commander parsed them (see options.ts). */
export interface RampOptions {
  admin?: string
  /** Increasing percentages. */
  steps: number[]
  /** Milliseconds each step is held at least. */
  interval: number
  /** Percent. */
  maxErrorRate?: number
  /** Milliseconds. */
  maxP99?: number
  minRequests: number
  /** Percent. */
  tolerance?: number
  /** Milliseconds between two reads of the rollout (tests). */
  poll?: number
}

/** Exit code of a ramp that was rolled back. */
export const EXIT_ANALYSIS_FAILED = 4

/** The judge's default max-step: a step is never shorter than --interval. */
const MAX_STEP_MS = 600_000

export async function rampCommand (route: string, backend: string, opts: RampOptions): Promise<number> {
  const maxStep = Math.max(opts.interval, MAX_STEP_MS)
  const flags = [
    `--steps ${opts.steps.join(',')}`, `--min-step ${opts.interval}ms`, `--max-step ${maxStep}ms`, `--min-requests ${opts.minRequests}`,
    ...(opts.maxErrorRate === undefined ? [] : [`--max-error-rate ${opts.maxErrorRate}`]),
    ...(opts.maxP99 === undefined ? [] : [`--max-p99 ${opts.maxP99}ms`]),
    ...(opts.tolerance === undefined ? [] : [`--tolerance ${opts.tolerance}`])
  ]
  output().out(`ramp runs as a rollout: switchyard rollout start ${route} ${backend} ${flags.join(' ')} --watch\n`)
  return await rolloutStartCommand(route, backend, {
    admin: opts.admin,
    steps: opts.steps,
    minStep: opts.interval,
    maxStep,
    maxErrorRate: opts.maxErrorRate,
    maxP99: opts.maxP99,
    minRequests: opts.minRequests,
    tolerance: opts.tolerance,
    watch: true,
    poll: opts.poll
  })
}
