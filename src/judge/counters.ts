/**
 * What the judge reads: per arm, cumulative counter readings as switchyard's
 * own metrics hold them (requests, errors, and the duration histogram as
 * prom-client keeps it: cumulative counts by upper bound). A step's window
 * is the difference between two readings, so the judge works on exact
 * counts, not on rates scraped from a time-series database.
 */

/** Upper bound in seconds (Infinity for `+Inf`) → cumulative count of durations ≤ bound. */
export type Buckets = ReadonlyMap<number, number>

export interface ArmCounters {
  /** Requests the route decided for this arm (the canary's include those its fallback served). */
  readonly requests: number
  /** Of those, 5xx answers, gRPC calls with a status the route counts as an error, and, for the canary, failovers its fallback served. */
  readonly errors: number
  /** The arm's duration histogram. */
  readonly buckets: Buckets
  /**
   * Units of assignment for the sample-ratio check when they are not
   * requests: on a sticky route, new users assigned to the arm. Undefined:
   * requests are the units.
   */
  readonly units?: number
}

export interface Counters {
  readonly canary: ArmCounters
  readonly baseline: ArmCounters
}

/** A count from outside: NaN, negative or fractional readings become the nearest sane integer. */
function sane (x: number | undefined): number {
  return x !== undefined && Number.isFinite(x) && x > 0 ? Math.floor(x) : 0
}

/**
 * A counter's increase from `before` to `now`. A smaller reading means the
 * counter restarted from 0 (a process restart), and everything counted
 * since is the reading itself: Prometheus's rule for increase() and rate().
 */
function increase (now: number, before: number): number {
  const n = sane(now)
  const b = sane(before)
  return n >= b ? n - b : n
}

function bucketsSince (now: Buckets, before: Buckets): Buckets {
  const reset = sane(now.get(Infinity)) < sane(before.get(Infinity))
  const out = new Map<number, number>()
  for (const [le, n] of now) out.set(le, reset ? sane(n) : Math.max(0, sane(n) - sane(before.get(le))))
  return out
}

function armSince (now: ArmCounters, before: ArmCounters): ArmCounters {
  const units = now.units === undefined ? undefined : increase(now.units, before.units ?? 0)
  return { requests: increase(now.requests, before.requests), errors: increase(now.errors, before.errors), buckets: bucketsSince(now.buckets, before.buckets), units }
}

/** The counts of a window: `now` minus the readings at its start, counter resets allowed for. */
export function since (now: Counters, start: Counters): Counters {
  return { canary: armSince(now.canary, start.canary), baseline: armSince(now.baseline, start.baseline) }
}

function armPlus (x: ArmCounters, y: ArmCounters): ArmCounters {
  const buckets = new Map<number, number>()
  for (const [le, n] of x.buckets) buckets.set(le, sane(n))
  for (const [le, n] of y.buckets) buckets.set(le, (buckets.get(le) ?? 0) + sane(n))
  const units = x.units === undefined && y.units === undefined ? undefined : sane(x.units) + sane(y.units)
  return { requests: sane(x.requests) + sane(y.requests), errors: sane(x.errors) + sane(y.errors), buckets, units }
}

/** Two windows' counts together: a step resumed after a restart adds what it had counted before. */
export function plus (x: Counters, y: Counters): Counters {
  return { canary: armPlus(x.canary, y.canary), baseline: armPlus(x.baseline, y.baseline) }
}

/** The finite upper bounds of a histogram, ascending. */
export function boundsOf (buckets: Buckets): number[] {
  return [...buckets.keys()].filter(le => Number.isFinite(le) && le > 0).sort((a, b) => a - b)
}

/** Durations counted in the histogram. */
export function observed (buckets: Buckets): number {
  return sane(buckets.get(Infinity))
}

/**
 * Durations over `bound`: the total minus the cumulative count at the
 * largest histogram bound ≤ `bound` (exact when `bound` is a bucket bound,
 * which the judge's thresholds always are).
 */
export function exceedances (buckets: Buckets, bound: number): number {
  let below = 0
  let at = -Infinity
  for (const [le, n] of buckets) {
    if (le <= bound && le > at) {
      at = le
      below = sane(n)
    }
  }
  return Math.max(0, observed(buckets) - below)
}

/**
 * The q-quantile of a cumulative histogram, in seconds, estimated as
 * Prometheus's histogram_quantile() does: linear inside the bucket that
 * holds the rank; the highest finite bound when the rank is in `+Inf`.
 * Undefined for an empty histogram.
 */
export function histogramQuantile (q: number, buckets: Buckets): number | undefined {
  const bounds = boundsOf(buckets)
  const count = observed(buckets)
  if (count === 0 || bounds.length === 0) return undefined
  const rank = q * count
  let lower = 0
  let below = 0
  for (const upper of bounds) {
    const cumulative = sane(buckets.get(upper))
    if (cumulative >= rank) return lower + (upper - lower) * (rank - below) / Math.max(1, cumulative - below)
    lower = upper
    below = cumulative
  }
  return lower
}

/**
 * The smallest histogram bound ≥ `seconds`, undefined when none is: "slower
 * than the bound" then certainly means "slower than `seconds`", and the
 * count of such requests is an exact counter difference.
 */
export function boundAtOrAbove (bounds: readonly number[], seconds: number): number | undefined {
  return bounds.find(b => b >= seconds)
}
