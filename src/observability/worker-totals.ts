/**
 * Counters added up over worker processes so that the total never goes
 * back. A plain sum of the workers' counters drops when one restarts, but
 * the others' totals are still in it: no rule applied to the sum alone can
 * tell the restarted worker's new counts from the others' increase (and
 * when the others grew more than it lost, the drop is not even seen). So
 * each worker's previous reading is kept, and each reading adds to the
 * total only what that worker counted since: everything, for a worker not
 * seen before (a replacement has a new id) or a counter that went down
 * (it started again from 0: Prometheus's rule for increase(), as since()
 * in judge/counters.ts applies it).
 */
import type { Registry } from 'prom-client'

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>
type Metric = MetricsJson[number]
type Value = Metric['values'][number] & { readonly metricName?: string }

/**
 * A worker left out of this many readings in a row is forgotten. node:cluster
 * never reuses an id, so only one that answers again afterwards (after over
 * a minute without an answer at the console's 5 s) would be counted anew.
 */
export const FORGET_AFTER_READINGS = 12

/** One worker's metrics and its id (what the plane link's metrics() answers; a replacement worker has a new id). */
export interface WorkerReading {
  readonly worker: number
  readonly metrics: MetricsJson
}

const seriesKey = (name: string, v: Value): string =>
  `${name}|${v.metricName ?? ''}|${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b)))}`

interface WorkerState {
  /** Series key → the value at the worker's latest reading. */
  readonly last: Map<string, number>
  /** Readings in a row that left this worker out. */
  absent: number
}

export class WorkerTotals {
  readonly #names: ReadonlySet<string>
  readonly #workers = new Map<number, WorkerState>()
  /** Metric name → its metric as a reading described it (name, help, type), series left out. */
  readonly #metrics = new Map<string, Metric>()
  /** Metric name → series key → the series (labels) and every increase of every worker, added up. */
  readonly #totals = new Map<string, Map<string, Value>>()

  /** `names`: the counters and histograms to keep (the others in a reading are ignored). */
  constructor (names: Iterable<string>) {
    this.#names = new Set(names)
  }

  /**
   * Takes one reading of the workers; returns the totals of every series
   * read so far, as prom-client's JSON. A series no worker has now (its
   * workers restarted, say) keeps its total: what it counted stays counted.
   */
  add (readings: readonly WorkerReading[]): MetricsJson {
    for (const { worker, metrics } of readings) {
      let state = this.#workers.get(worker)
      if (state === undefined) {
        state = { last: new Map(), absent: 0 }
        this.#workers.set(worker, state)
      }
      for (const metric of metrics) {
        if (!this.#names.has(metric.name)) continue
        let totals = this.#totals.get(metric.name)
        if (totals === undefined) {
          totals = new Map()
          this.#totals.set(metric.name, totals)
          this.#metrics.set(metric.name, { ...metric, values: [] })
        }
        for (const v of metric.values as readonly Value[]) {
          const k = seriesKey(metric.name, v)
          const now = v.value
          const before = state.last.get(k) ?? 0
          state.last.set(k, now)
          const total = (totals.get(k)?.value ?? 0) + (now >= before ? now - before : Math.max(0, now))
          totals.set(k, { ...v, value: total })
        }
      }
    }
    this.#forgetAbsent(new Set(readings.map(r => r.worker)))
    return [...this.#metrics.values()].map(m => ({ ...m, values: [...this.#totals.get(m.name)?.values() ?? []] }))
  }

  #forgetAbsent (present: ReadonlySet<number>): void {
    for (const [worker, state] of this.#workers) {
      if (present.has(worker)) state.absent = 0
      else if (++state.absent >= FORGET_AFTER_READINGS) this.#workers.delete(worker)
    }
  }
}
