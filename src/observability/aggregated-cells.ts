/**
 * The console's time series under `serve --workers`: the request cells live
 * in the worker processes, and the primary sees them only as the metrics
 * the workers send over the plane link (prom-client's JSON, added up as
 * /metrics serves them). Before each sample this source reads those sums
 * and keeps one SeriesCell per (route, backend, version) holding them, so
 * the sampler computes rates, shares and quantiles exactly as it does from
 * the in-process cells of a single process.
 *
 * The counts are what the metrics export: durations of the non-gRPC
 * requests (the series without `grpc_code`, as a single process's cell
 * keeps them), 5xx answers from `switchyard_requests_total`, new users from
 * `switchyard_sticky_assignments_total` (per route and backend; a backend
 * has one version).
 */
import type { Registry } from 'prom-client'
import { DURATION_BUCKETS, MethodCodeTally, SeriesCell } from './series-cell.js'
import type { CellSource } from './timeseries.js'

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>
type Labels = Readonly<Record<string, string | number | undefined>>

const key = (route: string, backend: string, version: string): string => `${route}\0${backend}\0${version}`

export class AggregatedCells implements CellSource {
  readonly #read: () => Promise<MetricsJson>
  readonly #cells = new Map<string, SeriesCell>()
  /** The series in the latest reading: the others left the config (or were never in it). */
  #live = new Set<SeriesCell>()

  /** `read`: the metrics of every process added up (what GET /metrics serves, as JSON). */
  constructor (read: () => Promise<MetricsJson>) {
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

  /** Reads the workers' sums into the cells; rejects when a worker did not answer (the sample is skipped). */
  async refresh (): Promise<void> {
    const metrics = await this.#read()
    const byName = new Map(metrics.map(m => [m.name, m.values as ReadonlyArray<{ labels: Labels, value: number, metricName?: string }>]))
    const live = new Set<SeriesCell>()
    const reset = new Set<SeriesCell>()
    const cellOf = (l: Labels): SeriesCell => {
      const c = this.#cell(String(l.route), String(l.backend), String(l.version))
      // Rebuilt from this reading: the sums replace what the cell held.
      if (!reset.has(c)) {
        reset.add(c)
        c.buckets.fill(0)
        c.durationCount = 0
        c.durationSum = 0
        c.byRule.clear()
        c.stickyAssignments.value = 0
      }
      live.add(c)
      return c
    }

    for (const v of byName.get('switchyard_request_duration_seconds') ?? []) {
      if (v.labels.grpc_code !== undefined) continue
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
    for (const c of reset) {
      for (let i = c.buckets.length - 1; i > 0; i--) c.buckets[i] = (c.buckets[i] as number) - (c.buckets[i - 1] as number)
    }

    for (const v of byName.get('switchyard_requests_total') ?? []) {
      const code = Number(v.labels.code)
      if (!(code >= 500 && code <= 599)) continue
      const rule = cellOf(v.labels).rule(String(v.labels.rule))
      const t = new MethodCodeTally(0, code)
      t.value = v.value
      rule.byMethodCode.set(rule.byMethodCode.size, t)
    }

    const versions = new Map([...live].map(c => [`${c.route}\0${c.backend}`, c]))
    for (const v of byName.get('switchyard_sticky_assignments_total') ?? []) {
      const c = versions.get(`${String(v.labels.route)}\0${String(v.labels.backend)}`)
      if (c !== undefined) c.stickyAssignments.value = v.value
    }
    this.#live = live
  }
}
