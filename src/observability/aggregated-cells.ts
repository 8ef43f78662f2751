/**
 * The console's time series under `serve --workers`: the request cells live
 * in the worker processes, and the primary sees them only as the metrics
 * each worker sends over the plane link (prom-client's JSON). Before each
 * sample this source reads them, adds them up per worker (worker-totals.ts:
 * a restarted worker adds only its new counts, the others only their
 * increase, so the totals never go back), and keeps one SeriesCell per
 * (route, backend, version) holding those totals, so the sampler computes
 * rates, shares and quantiles exactly as it does from the in-process cells
 * of a single process.
 *
 * The counts are what the metrics export: durations of the non-gRPC
 * requests (the series without `grpc_code`, as a single process's cell
 * keeps them), 5xx answers from `switchyard_requests_total`, new users from
 * `switchyard_sticky_assignments_total` (per route and backend; a backend
 * has one version).
 */
import { DURATION_BUCKETS, MethodCodeTally, SeriesCell } from './series-cell.js'
import type { CellSource } from './timeseries.js'
import { WorkerTotals, type WorkerReading } from './worker-totals.js'

type Labels = Readonly<Record<string, string | number | undefined>>

const DURATIONS = 'switchyard_request_duration_seconds'
const REQUESTS = 'switchyard_requests_total'
const STICKY = 'switchyard_sticky_assignments_total'

type Value = Readonly<{ labels: Labels, value: number, metricName?: string }>

/** The series a cell is built from: durations of non-gRPC requests, and 5xx answers. */
function counted (name: string, v: Value): boolean {
  if (name === DURATIONS) return v.labels.grpc_code === undefined
  const code = Number(v.labels.code)
  return name === REQUESTS && code >= 500 && code <= 599
}

const key = (route: string, backend: string, version: string): string => `${route}\0${backend}\0${version}`

export class AggregatedCells implements CellSource {
  readonly #read: () => Promise<readonly WorkerReading[]>
  readonly #totals = new WorkerTotals([DURATIONS, REQUESTS, STICKY])
  readonly #cells = new Map<string, SeriesCell>()
  /** The cells with a series in the latest reading: the others left the config (or were never in it). */
  #live = new Set<SeriesCell>()

  /** `read`: each worker's metrics, with its id (the plane link's metrics()). */
  constructor (read: () => Promise<readonly WorkerReading[]>) {
    this.#read = read
  }

  cells (): IterableIterator<SeriesCell> {
    return this.#cells.values()
  }

  isLive (cell: SeriesCell): boolean {
    return this.#live.has(cell)
  }

  #cell (route: string, backend: string, version: string): SeriesCell {
    const k = key(route, backend, version)
    let c = this.#cells.get(k)
    if (c === undefined) {
      c = new SeriesCell(route, backend, version)
      this.#cells.set(k, c)
    }
    return c
  }

  /** Reads the workers' totals into the cells; rejects when the read does (the sample is skipped). */
  async refresh (): Promise<void> {
    const readings = await this.#read()
    const metrics = this.#totals.add(readings)
    const byName = new Map(metrics.map(m => [m.name, m.values as readonly Value[]]))
    const built = new Set<SeriesCell>()
    const cellOf = (l: Labels): SeriesCell => {
      const c = this.#cell(String(l.route), String(l.backend), String(l.version))
      // Rebuilt from this reading: the totals replace what the cell held.
      if (!built.has(c)) {
        built.add(c)
        c.buckets.fill(0)
        c.durationCount = 0
        c.durationSum = 0
        c.byRule.clear()
        c.stickyAssignments.value = 0
      }
      return c
    }

    for (const v of byName.get(DURATIONS) ?? []) {
      if (!counted(DURATIONS, v)) continue
      const c = cellOf(v.labels)
      if (v.metricName?.endsWith('_count') === true) c.durationCount = v.value
      else if (v.metricName?.endsWith('_sum') === true) c.durationSum = v.value
      else if (v.metricName?.endsWith('_bucket') === true) {
        // Cumulative `le` buckets → this cell's per-bucket counts (the last slot: above the largest bound).
        const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le)
        const i = le === Infinity ? DURATION_BUCKETS.length : DURATION_BUCKETS.indexOf(le)
        if (i >= 0) c.buckets[i] = v.value
      }
    }
    for (const c of built) {
      for (let i = c.buckets.length - 1; i > 0; i--) c.buckets[i] = (c.buckets[i] as number) - (c.buckets[i - 1] as number)
    }

    for (const v of byName.get(REQUESTS) ?? []) {
      if (!counted(REQUESTS, v)) continue
      const rule = cellOf(v.labels).rule(String(v.labels.rule))
      const t = new MethodCodeTally(0, Number(v.labels.code))
      t.value = v.value
      rule.byMethodCode.set(rule.byMethodCode.size, t)
    }

    const live = new Set<SeriesCell>()
    for (const { metrics } of readings) {
      for (const m of metrics) {
        for (const v of m.values as readonly Value[]) if (counted(m.name, v)) live.add(this.#cell(String(v.labels.route), String(v.labels.backend), String(v.labels.version)))
      }
    }
    // A backend has one version: its new users go to the cell of the running config's.
    const versions = new Map([...built, ...live].map(c => [`${c.route}\0${c.backend}`, c]))
    for (const v of byName.get(STICKY) ?? []) {
      const c = versions.get(`${String(v.labels.route)}\0${String(v.labels.backend)}`)
      if (c !== undefined) c.stickyAssignments.value = v.value
    }
    this.#live = live
  }
}
