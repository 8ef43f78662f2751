/**
 * switchyard_request_duration_seconds: a prom-client Histogram whose series
 * come from the SeriesCells at scrape time instead of from observe() calls.
 * prom-client has no way to hand a histogram bucket counts, and its own
 * observe() costs a hash string per request (see series-cell.ts); so this
 * subclass only replaces where the values come from, and the registry
 * still names, types and formats the metric as any other histogram.
 */
import { Histogram, type Registry } from 'prom-client'
import { DURATION_BUCKETS, type Durations, type SeriesCell } from './series-cell.js'
import { GRPC_CODE_NAMES } from '../util/grpc-status.js'

type DurationLabel = 'route' | 'backend' | 'version' | 'grpc_code'
type ExportLabel = DurationLabel | 'le'
type HistogramData = Awaited<ReturnType<Histogram<ExportLabel>['get']>>

export interface CellSource {
  cells (): Iterable<SeriesCell>
  /** Whether a cell without observations is still worth a (zero) series. */
  isLive (cell: SeriesCell): boolean
}

export class CellHistogram extends Histogram<ExportLabel> {
  readonly #source: CellSource
  readonly #name: string
  readonly #help: string

  constructor (name: string, help: string, registry: Registry, source: CellSource) {
    const labelNames: DurationLabel[] = ['route', 'backend', 'version', 'grpc_code']
    super({ name, help, labelNames, buckets: [...DURATION_BUCKETS], registers: [registry] })
    this.#source = source
    this.#name = name
    this.#help = help
  }

  override async get (): Promise<HistogramData> {
    const values: HistogramData['values'] = []
    const bucketName = `${this.#name}_bucket`
    const sumName = `${this.#name}_sum`
    const countName = `${this.#name}_count`
    const series = (labels: Partial<Record<DurationLabel, string>>, d: Durations): void => {
      let cumulative = 0
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += d.buckets[i]!
        values.push({ metricName: bucketName, labels: { ...labels, le: DURATION_BUCKETS[i]! }, value: cumulative })
      }
      values.push({ metricName: bucketName, labels: { ...labels, le: '+Inf' }, value: d.durationCount })
      values.push({ metricName: sumName, labels, value: d.durationSum })
      values.push({ metricName: countName, labels, value: d.durationCount })
    }
    for (const cell of this.#source.cells()) {
      const { route, backend, version } = cell
      if (cell.durationCount !== 0 || (this.#source.isLive(cell) && cell.grpcDurations.size === 0)) series({ route, backend, version }, cell)
      // gRPC calls by status (at most the 17 codes per cell).
      for (const [code, d] of cell.grpcDurations) series({ route, backend, version, grpc_code: GRPC_CODE_NAMES[code] ?? 'UNKNOWN' }, d)
    }
    // The shape prom-client's own get() returns. Its typings declare `type`
    // as a numeric enum that the package does not export at run time; the
    // registry reads the string, as below.
    const data = { name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values }
    return data as unknown as HistogramData
  }

  /**
   * prom-client's Registry serialises a metric through getForPromString()
   * when it has one (Histogram does, reading its own observations), and
   * through get() otherwise: both must read the cells. Its typings do not
   * declare this method; test/observability/cell-histogram.test.ts pins the
   * behaviour (text, JSON and cluster aggregation all read the cells).
   */
  async getForPromString (): Promise<HistogramData> {
    return await this.get()
  }
}
