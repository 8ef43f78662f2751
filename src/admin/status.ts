/** The body of GET /admin/status: what runs, since when, from where, and how healthy. */
import { formatProblem } from '../errors.js'
import type { Destination, RoutingTable } from '../routing/types.js'
import type { ActiveConfig } from '../proxy/config-store.js'
import type { LiveConfig } from '../control/live-config.js'
import { formatDuration } from '../util/duration.js'

export function describeWeights (d: Destination): { to?: string, weights?: Record<string, number>, percent: Record<string, number> } {
  if (d.kind === 'to') return { to: d.backend.name, percent: { [d.backend.name]: 100 } }
  const total = d.split.weights.reduce((a, w) => a + w.weight, 0)
  return {
    weights: Object.fromEntries(d.split.weights.map(w => [w.backend.name, w.weight])),
    percent: Object.fromEntries(d.split.weights.map(w => [w.backend.name, Math.round(1e5 * w.weight / total) / 1e3]))
  }
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

function backendsOf (active: ActiveConfig): unknown[] {
  return active.runtimes.map(rt => ({
    name: rt.backend.name,
    version: rt.backend.version,
    balance: rt.backend.balance,
    targets: rt.upstreams.map(up => ({ url: up.origin, inFlight: up.pending, health: up.health }))
  }))
}

export function statusBody (live: LiveConfig): Record<string, unknown> {
  const active = live.store.current
  const err = live.lastError
  return {
    revision: active.revision,
    sha256: active.table.sha256,
    loadedAt: active.loadedAt.toISOString(),
    source: active.origin,
    configFile: live.file,
    historyFile: live.history.file,
    lastReloadError: err === undefined
      ? null
      : { at: err.at.toISOString(), source: err.origin, problems: err.problems.map(p => ({ ...p, text: formatProblem(p, live.file) })) },
    routes: routesOf(active.table),
    backends: backendsOf(active)
  }
}
