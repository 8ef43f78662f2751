/**
 * Retry delays for the store loops: exponential, capped, with jitter so a
 * fleet that lost its store together does not come back in lockstep (AWS's
 * "equal jitter": half the step fixed, half random, so no retry is instant).
 */

export interface BackoffPolicy {
  /** First delay's upper bound, ms. */
  readonly baseMs: number
  /** No delay exceeds this, ms. */
  readonly maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5000 }

/** The delay before retry number `attempt` (0-based); `rand` in [0, 1). Pure. */
export function backoffDelay (attempt: number, policy: BackoffPolicy, rand: number): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(step / 2 + rand * step / 2)
}

/** Counts failures in a row; reset() after a success. */
export class Backoff {
  #attempt = 0
  constructor (private readonly policy: BackoffPolicy = DEFAULT_BACKOFF, private readonly random: () => number = Math.random) {}

  next (): number {
    return backoffDelay(this.#attempt++, this.policy, this.random())
  }

  reset (): void {
    this.#attempt = 0
  }
}
