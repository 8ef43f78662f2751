/** The body of GET /admin/status: what runs, since when, from where, and how healthy. */
import { formatProblem } from '../errors.js'
import type { Destination, RoutingTable } from '../routing/types.js'
import { percentages } from '../routing/weighted.js'
import type { LiveConfig } from '../control/live-config.js'
import type { TargetState } from '../link/link.js'
import { formatDuration } from '../util/duration.js'

function describeWeights (d: Destination): { to?: string, weights?: Record<string, number>, percent: Record<string, number> } {
  if (d.kind === 'to') return { to: d.backend.name, percent: { [d.backend.name]: 100 } }
  const weights = d.split.weights.map(w => ({ name: w.backend.name, weight: w.weight }))
  return { weights: Object.fromEntries(weights.map(w => [w.name, w.weight])), percent: percentages(weights) }
}

function routesOf (table: RoutingTable): unknown[] {
  return table.routes.map(r => ({
    name: r.name,
    match: table.config.routes[r.index]?.match ?? {},
    default: describeWeights(r.destination),
    rules: r.rules.map(rule => ({ name: rule.name, ...describeWeights(rule.destination) })),
    sticky: r.sticky === undefined ? null : { [r.sticky.source]: r.sticky.name },
    timeout: formatDuration(r.timeoutMs)
  }))
}

/** The running config's backends, each target with what the data planes report (unknown until they do). */
function backendsOf (table: RoutingTable, targets: readonly TargetState[]): unknown[] {
  return table.backends.map(b => ({
    name: b.name,
    version: b.version,
    balance: b.balance,
    targets: b.targets.map(url => {
      const seen = targets.find(t => t.backend === b.name && t.url === url)
      return { url, inFlight: seen?.inFlight ?? 0, health: seen?.health ?? 'unknown' }
    })
  }))
}

/** A replica of the fleet as the status lists it. */
export interface ReplicaStatus {
  readonly id: string
  readonly adminUrl: string
  readonly revision: number
  readonly syncedAt: string
  readonly self: boolean
}

/** What a replica on a fleet's store adds to its status. */
export interface FleetStatus {
  readonly store: {
    readonly location: string
    readonly connected: boolean
    /** Not connected: serving the last good revision, which may be behind the fleet's. */
    readonly stale: boolean
    readonly lastSyncAt: string | null
    readonly lastSyncAgeSeconds: number | null
    readonly error: string | null
    readonly relists: number
    /** Set when the replica started from its local copy because the store was out of reach. */
    readonly startedFromLocalCopy: { readonly revision: number, readonly savedAt: string, readonly file: string } | null
  }
  readonly leader: string | null
  /** The live replicas (the store's membership); null when the store cannot be asked. */
  readonly replicas: readonly ReplicaStatus[] | null
}

export function statusBody (live: LiveConfig, targets: readonly TargetState[]): Record<string, unknown> {
  const active = live.current
  const err = live.lastError
  return {
    revision: active.revision,
    sha256: active.table.sha256,
    loadedAt: active.loadedAt.toISOString(),
    source: active.origin,
    configFile: live.source.location,
    historyFile: live.history.location,
    lastReloadError: err === undefined
      ? null
      : { at: err.at.toISOString(), source: err.origin, problems: err.problems.map(p => ({ ...p, text: formatProblem(p, live.source.location) })) },
    // Settings the running revision changed that only a restart applies (the listeners stay where they were bound).
    pendingRestart: live.pendingRestart,
    routes: routesOf(active.table),
    backends: backendsOf(active.table, targets)
  }
}
