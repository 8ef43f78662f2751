/** Counter readings for judge tests: arms with requests, errors and a duration histogram. */
import type { ArmCounters, Counters } from '../../src/judge/counters.js'

/** Histogram bounds of the tests: a few of the proxy's DURATION_BUCKETS. */
export const BOUNDS = [0.05, 0.1, 0.25, 0.5, 1] as const

/**
 * An arm's readings: `slow` of its requests took 0.3 s (over the 0.25 s
 * bound), the rest 0.02 s. `timed` defaults to every request.
 */
export function arm (requests: number, errors: number, slow = 0, extra: Partial<ArmCounters> = {}): ArmCounters {
  const fast = requests - slow
  const buckets = new Map<number, number>([[0.05, fast], [0.1, fast], [0.25, fast], [0.5, requests], [1, requests], [Infinity, requests]])
  return { requests, errors, buckets, ...extra }
}

export function counters (canary: ArmCounters, baseline: ArmCounters): Counters {
  return { canary, baseline }
}

/** Readings of a step's start: nothing counted yet. */
export const ZERO: Counters = counters(arm(0, 0), arm(0, 0))
