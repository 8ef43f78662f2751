/**
 * The console's copy of GET /admin/timeseries: the first poll brings the
 * whole window, later ones (`?since=`) only new samples, which are appended
 * here; samples older than the window are dropped. Pure: unit-tested.
 */
import type { Points, Series, TimeseriesReply } from './types.js'

export const seriesKey = (s: { route: string, backend: string, version: string }): string => `${s.route}\0${s.backend}\0${s.version}`

type Column = keyof Points
const COLUMNS: readonly Column[] = ['t', 'rate', 'errorShare', 'p50', 'p99', 'sticky', 'requests']

export interface SeriesStore {
  readonly series: ReadonlyMap<string, Series>
  /** The newest sample time held, for the next `?since=`. */
  readonly since: number | null
  readonly windowSeconds: number
}

export const emptyStore: SeriesStore = { series: new Map(), since: null, windowSeconds: 900 }

export function mergeSeries (store: SeriesStore, reply: TimeseriesReply): SeriesStore {
  const out = new Map<string, Series>()
  const newest = reply.sampledAt ?? store.since
  const oldest = newest === null ? -Infinity : newest - reply.windowSeconds * 1000
  // A series the reply no longer names left the running config: drop it.
  for (const s of reply.series) {
    const key = seriesKey(s)
    const prev = store.series.get(key)
    const points = {} as Record<Column, Array<number | null>>
    for (const c of COLUMNS) points[c] = [...(prev?.points[c] ?? []), ...s.points[c]]
    const keepFrom = points.t.findIndex(t => t !== null && t > oldest)
    const from = keepFrom === -1 ? points.t.length : keepFrom
    for (const c of COLUMNS) points[c] = points[c].slice(from)
    out.set(key, { route: s.route, backend: s.backend, version: s.version, points: points as unknown as Points })
  }
  return { series: out, since: newest, windowSeconds: reply.windowSeconds }
}
