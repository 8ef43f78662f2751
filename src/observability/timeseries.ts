/**
 * The last few minutes of each (route, backend, version), kept in memory for
 * the web console: no Prometheus needed to see how a version is doing.
 *
 * Every `intervalMs` the sampler reads the cumulative numbers of each
 * SeriesCell (the same ones /metrics exports), and stores what changed since
 * the previous sample: request rate, 5xx share, p50/p99 estimated from the
 * duration buckets that filled in the interval, new sticky users. Each series
 * is a fixed ring of columns (Float64Array), so its memory is set when the
 * series first appears and never grows; the number of series is bounded by
 * the config (SeriesCell's label values come only from it). The data path is
 * untouched: sampling reads numbers the proxy already keeps.
 */
import { DURATION_BUCKETS, type SeriesCell } from './series-cell.js'

export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000
export const DEFAULT_WINDOW_MS = 15 * 60_000

/** What a sample records per series; quantiles in seconds, rates per second. */
export interface Sample {
  readonly t: number
  readonly rate: number
  /** Share of 5xx answers among the interval's responses; NaN without responses. */
  readonly errorShare: number
  readonly p50: number
  readonly p99: number
  /** New users assigned (sticky cookies set) per second. */
  readonly sticky: number
  /** Responses counted since the process started (the counter itself). */
  readonly requests: number
}

const COLUMNS = ['t', 'rate', 'errorShare', 'p50', 'p99', 'sticky', 'requests'] as const
type Column = typeof COLUMNS[number]

/** Oldest-first columns; NaN (no responses in the interval) becomes null in JSON. */
export type Points = Record<Column, number[]>

/** A fixed-capacity ring of samples, stored as one typed array per column. */
export class SampleRing {
  readonly #cols: Record<Column, Float64Array>
  #next = 0
  #size = 0

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`)
    this.#cols = Object.fromEntries(COLUMNS.map(c => [c, new Float64Array(capacity)])) as Record<Column, Float64Array>
  }

  get size (): number {
    return this.#size
  }

  push (s: Sample): void {
    for (const c of COLUMNS) this.#cols[c][this.#next] = s[c]
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  /** The samples with `t > since`, oldest first. */
  points (since = -Infinity): Points {
    const out = Object.fromEntries(COLUMNS.map(c => [c, [] as number[]])) as Points
    const start = (this.#next - this.#size + this.capacity) % this.capacity
    for (let k = 0; k < this.#size; k++) {
      const i = (start + k) % this.capacity
      if ((this.#cols.t[i] as number) <= since) continue
      for (const c of COLUMNS) out[c].push(this.#cols[c][i] as number)
    }
    return out
  }
}

/**
 * The q-quantile of one interval's (non-cumulative) bucket counts, as
 * Prometheus's histogram_quantile() estimates it: linear inside the bucket
 * holding the rank, the highest finite bound when the rank is above it.
 * NaN when the interval has no observations.
 */
export function bucketQuantile (q: number, counts: ArrayLike<number>, bounds: readonly number[] = DURATION_BUCKETS): number {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i] as number
  if (total <= 0) return NaN
  const rank = q * total
  let below = 0
  for (let i = 0; i < bounds.length; i++) {
    const n = counts[i] as number
    if (below + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : bounds[i - 1] as number
      return lower + ((bounds[i] as number) - lower) * (rank - below) / n
    }
    below += n
  }
  return bounds[bounds.length - 1] as number
}

/** What the sampler reads: the request cells (RequestMetrics), or the workers' totals in such cells (AggregatedCells). */
export interface CellSource {
  /** The cells. Their counts only ever grow: AggregatedCells allows for a worker's restart before it fills them (worker-totals.ts). */
  cells (): Iterable<SeriesCell>
  isLive (cell: SeriesCell): boolean
  /** Called before each timed sample: cells kept in other processes are read in (aggregated-cells.ts); a rejection skips the sample. */
  refresh? (): Promise<void>
}

interface Tracked {
  readonly cell: SeriesCell
  readonly ring: SampleRing
  /** The cell's cumulative numbers at the previous sample. */
  requests: number
  errors: number
  sticky: number
  readonly buckets: Float64Array
}

function errorsOf (cell: SeriesCell): number {
  let n = 0
  for (const counts of cell.byRule.values()) {
    for (const t of counts.byMethodCode.values()) if (t.code >= 500 && t.code <= 599) n += t.value
  }
  return n
}

export interface SeriesPoints {
  readonly route: string
  readonly backend: string
  readonly version: string
  readonly points: Points
}

export interface TimeseriesBody {
  readonly intervalSeconds: number
  readonly windowSeconds: number
  /** When the latest sample was taken (ms since the epoch), or null before the first. */
  readonly sampledAt: number | null
  readonly series: readonly SeriesPoints[]
}

export interface SamplerOptions {
  readonly intervalMs?: number
  readonly windowMs?: number
  readonly now?: () => number
}

export class TimeseriesSampler {
  readonly intervalMs: number
  readonly windowMs: number
  readonly #source: CellSource
  readonly #now: () => number
  readonly #tracked = new Map<SeriesCell, Tracked>()
  readonly #delta = new Float64Array(DURATION_BUCKETS.length + 1)
  #last: number
  #sampledAt: number | null = null
  #timer: NodeJS.Timeout | undefined

  constructor (source: CellSource, opts: SamplerOptions = {}) {
    this.#source = source
    this.intervalMs = opts.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS
    this.#now = opts.now ?? Date.now
    this.#last = this.#now()
  }

  get capacity (): number {
    return Math.ceil(this.windowMs / this.intervalMs)
  }

  start (): void {
    if (this.#timer !== undefined) return
    const source = this.#source
    this.#timer = setInterval(source.refresh === undefined
      ? () => this.sample()
      // A failed read skips this sample; the next interval covers both.
      : () => { source.refresh?.().then(() => this.sample(), () => {}) }, this.intervalMs)
    // A console nobody looks at must not keep the process alive.
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Takes one sample of every cell. */
  sample (now = this.#now()): void {
    const seconds = (now - this.#last) / 1000
    if (seconds <= 0) return
    this.#last = now
    this.#sampledAt = now
    const delta = this.#delta
    for (const cell of this.#source.cells()) {
      let tr = this.#tracked.get(cell)
      if (tr === undefined) {
        // Cells start at zero and the sampler starts with the process, so the first sample counts from 0.
        tr = { cell, ring: new SampleRing(this.capacity), requests: 0, errors: 0, sticky: 0, buckets: new Float64Array(delta.length) }
        this.#tracked.set(cell, tr)
      }
      const requests = cell.durationCount
      const errors = errorsOf(cell)
      const sticky = cell.stickyAssignments.value
      // The cells' counts never go down (CellSource), so each difference is what the interval counted.
      // Clamped at 0 all the same: a count that went down must not make a negative rate, share or bucket.
      for (let i = 0; i < delta.length; i++) {
        delta[i] = Math.max(0, (cell.buckets[i] as number) - (tr.buckets[i] as number))
        tr.buckets[i] = cell.buckets[i] as number
      }
      const n = Math.max(0, requests - tr.requests)
      tr.ring.push({
        t: now,
        rate: n / seconds,
        errorShare: n > 0 ? Math.max(0, errors - tr.errors) / n : NaN,
        p50: bucketQuantile(0.5, delta),
        p99: bucketQuantile(0.99, delta),
        sticky: Math.max(0, sticky - tr.sticky) / seconds,
        requests
      })
      tr.requests = requests
      tr.errors = errors
      tr.sticky = sticky
    }
  }

  /** The series of the running config (optionally one route), with the samples taken after `since`. */
  read (opts: { since?: number, route?: string } = {}): TimeseriesBody {
    const series: SeriesPoints[] = []
    for (const tr of this.#tracked.values()) {
      const { cell } = tr
      if (!this.#source.isLive(cell) || (opts.route !== undefined && cell.route !== opts.route)) continue
      series.push({ route: cell.route, backend: cell.backend, version: cell.version, points: tr.ring.points(opts.since) })
    }
    return { intervalSeconds: this.intervalMs / 1000, windowSeconds: this.windowMs / 1000, sampledAt: this.#sampledAt, series }
  }
}
