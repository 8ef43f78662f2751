/**
 * The plane link: the one narrow way the control plane drives data planes.
 * It sends a revision to serve, asks what the data planes see (targets,
 * metrics, readiness), stops them, and reports their events. Two
 * implementations: in-process (one data plane in this process) and IPC
 * (`serve --workers N`: one data plane per node:cluster worker). The
 * control plane depends on this interface only; test/link/ runs one suite
 * against both.
 */
import type { EventEmitter } from 'node:events'
import type { Registry } from 'prom-client'
import type { HealthEvent, TargetState } from '../dataplane/plane.js'
import type { RoutingTable } from '../routing/types.js'

export type { HealthEvent, TargetState }

/** A revision to serve. */
export interface ConfigUpdate {
  readonly revision: number
  /** The source text: what crosses a process boundary (the receiver compiles it again). */
  readonly text: string
  /** The compiled table, for a data plane in this process (compiled once). */
  readonly table: RoutingTable
}

/** prom-client's JSON form of one registry's metrics (what AggregatorRegistry adds up). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

/**
 * One data plane's metrics and the process that counted them. A worker
 * started to replace one that died has a new id (node:cluster never reuses
 * one): its counters start from 0, and a reader that keeps each worker's
 * previous reading can tell that from the others' totals (aggregated-cells.ts).
 */
export interface PlaneMetrics {
  readonly worker: number
  readonly metrics: MetricsJson
}

export interface PlaneLinkEvents {
  /** A data plane bound the proxy listener. */
  listening: [url: string]
  /** A target of a data plane started or stopped taking traffic. */
  health: [event: HealthEvent]
}

export interface Readiness {
  readonly ready: boolean
  /** Why not, for /readyz. */
  readonly reason: string
}

export interface PlaneLink extends EventEmitter<PlaneLinkEvents> {
  /**
   * Makes `update` the revision every data plane serves; resolves once they
   * all do (so an admin change answers once it is live). Before `start`, it
   * only sets the revision `start` begins with.
   */
  apply (update: ConfigUpdate): Promise<void>
  /** Starts the data planes on the last applied revision; resolves with the proxy URL once every one listens, rejects when one cannot. */
  start (): Promise<string>
  readiness (): Readiness
  /** Every target with its health and requests in flight (summed over data planes; the worst health wins). */
  targets (): Promise<TargetState[]>
  /** The metrics of data planes in other processes, one entry each; [] when they share this process's registry. */
  metrics (): Promise<PlaneMetrics[]>
  /** Stops every data plane: drained (SIGTERM) or at once; requests in flight finish either way. */
  stop (drain: boolean): Promise<void>
}

/** One view of a target over several data planes: in flight adds up, the worst health wins. */
export function mergeTargets (views: ReadonlyArray<readonly TargetState[]>): TargetState[] {
  const rank = { healthy: 0, unhealthy: 1, ejected: 2 } as const
  const merged = new Map<string, TargetState>()
  for (const view of views) {
    for (const t of view) {
      const key = `${t.backend}\0${t.url}`
      const seen = merged.get(key)
      merged.set(key, seen === undefined
        ? t
        : { ...seen, inFlight: seen.inFlight + t.inFlight, health: rank[t.health] > rank[seen.health] ? t.health : seen.health })
    }
  }
  return [...merged.values()]
}
