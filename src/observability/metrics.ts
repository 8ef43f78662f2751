/**
 * Every metric switchyard exports, created on an explicit prom-client
 * Registry, never the global one: each switchyard (and each test) gets its
 * own, and an embedding program keeps its registry to itself. The names and
 * labels are a contract with users' dashboards and with the rules in
 * config/prometheus/; the README's "Metrics" section lists them.
 *
 * The per-request metrics are counted by RequestMetrics into plain numbers
 * and handed to prom-client when the registry is read (`collect`), so the
 * data path never calls prom-client.
 */
import { GRPC_CODE_NAMES } from '../util/grpc-status.js'
import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client'
import type { ConfigStore } from '../proxy/config-store.js'
import { CellHistogram } from './cell-histogram.js'
import { ConfigMetrics, type ReloadResult } from './config-metrics.js'
import { RequestMetrics } from './request-metrics.js'
import type { Upstream, UpstreamRegistry } from '../proxy/upstreams.js'
import { METHODS, type Incrementable, type SeriesCell, type Tally } from './series-cell.js'
import { REJECT_CODES, REJECT_REASONS } from '../proxy/forward.js'
import { QUEUE_FAILURES, RETRY_REASONS, UPSTREAM_FAILURES } from '../proxy/failure.js'

export interface Metrics {
  readonly registry: Registry
  /** The proxy's ExchangeListener. */
  readonly requests: RequestMetrics
  /** Keeps the metrics in step with the running config and the targets' health. */
  follow (store: ConfigStore, upstreams?: UpstreamRegistry): void
  /** Counts a reload of the control plane (file change, SIGHUP, admin API). */
  reloaded (outcome: ReloadResult, origin: string): void
}

/** Hands what a tally counted since the last scrape to its counter child. */
function flush (t: Tally, child: () => Incrementable): void {
  const delta = t.value - t.flushed
  if (delta === 0) return
  ;(t.child ??= child()).inc(delta)
  t.flushed = t.value
}

/**
 * A per-(route, backend) gauge's values: `read` summed over versions, from
 * the cells of the running config and those still holding something.
 * Rebuilt on every scrape, so a pair the config dropped disappears once its
 * last request or tunnel ends.
 */
function sumByRouteBackend (requests: RequestMetrics, read: (cell: SeriesCell) => number): Array<[{ route: string, backend: string }, number]> {
  const sums = new Map<string, [{ route: string, backend: string }, number]>()
  for (const cell of requests.cells()) {
    const n = read(cell)
    if (n === 0 && !requests.isLive(cell)) continue
    const key = `${cell.route}\0${cell.backend}`
    const sum = sums.get(key)
    if (sum === undefined) sums.set(key, [{ route: cell.route, backend: cell.backend }, n])
    else sum[1] += n
  }
  return [...sums.values()]
}

export function createMetrics (registry: Registry): Metrics {
  collectDefaultMetrics({ register: registry })
  const requests = new RequestMetrics()
  const registers = [registry]

  const requestsTotal: Counter<'route' | 'backend' | 'version' | 'rule' | 'method' | 'code' | 'grpc_code' | 'grpc_error'> = new Counter({
    name: 'switchyard_requests_total',
    help: 'Proxied responses by route, backend, version, deciding rule (`split`: the route default), method and status sent to the client; gRPC calls also by gRPC status and whether the route counts it as an error',
    labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code', 'grpc_code', 'grpc_error'],
    registers,
    collect () {
      for (const cell of requests.cells()) {
        for (const counts of cell.byRule.values()) {
          for (const t of counts.byMethodCode.values()) {
            flush(t, () => {
              const labels = { route: cell.route, backend: cell.backend, version: cell.version, rule: counts.rule, method: METHODS[t.method] ?? 'OTHER', code: String(t.code) }
              // Only gRPC calls carry the gRPC labels: other series keep today's label set.
              return requestsTotal.labels(t.grpc < 0 ? labels : { ...labels, grpc_code: GRPC_CODE_NAMES[t.grpc] ?? 'UNKNOWN', grpc_error: String(t.grpcError) })
            })
          }
        }
      }
    }
  })

  /** A counter by route, backend, target and `label`, read from each cell's per-target tallies (indexed like `values`). */
  function perTargetCounter (name: string, help: string, label: string, tallies: (cell: SeriesCell) => ReadonlyMap<string, readonly Tally[]>, values: readonly string[]): void {
    const counter: Counter<string> = new Counter({
      name,
      help,
      labelNames: ['route', 'backend', 'target', label],
      registers,
      collect () {
        for (const cell of requests.cells()) {
          for (const [target, ts] of tallies(cell)) {
            ts.forEach((t, i) => flush(t, () => counter.labels(cell.route, cell.backend, target, values[i] ?? '')))
          }
        }
      }
    })
  }

  perTargetCounter('switchyard_upstream_errors_total',
    'Requests whose upstream failed: connect (refused, unreachable), timeout (no headers or body within the route timeout), reset, other',
    'kind', cell => cell.upstreamErrors, UPSTREAM_FAILURES)

  perTargetCounter('switchyard_upstream_queue_rejections_total',
    'Requests answered while waiting for a connection to a busy target: queue_full (503: maxPending already waiting), queue_timeout (504: none free within queueTimeout or the route timeout)',
    'reason', cell => cell.queueRejections, QUEUE_FAILURES)

  const sticky: Counter<'route' | 'backend'> = new Counter({
    name: 'switchyard_sticky_assignments_total',
    help: 'New users assigned to a backend: responses that set a new sticky cookie (the denominator of an A/B conversion rate)',
    labelNames: ['route', 'backend'],
    registers,
    collect () {
      for (const cell of requests.cells()) flush(cell.stickyAssignments, () => sticky.labels(cell.route, cell.backend))
    }
  })

  const inFlight: Gauge<'route' | 'backend'> = new Gauge({
    name: 'switchyard_requests_in_flight',
    help: 'Proxied requests started and not yet finished',
    labelNames: ['route', 'backend'],
    registers,
    collect () {
      inFlight.reset()
      for (const [key, n] of sumByRouteBackend(requests, cell => cell.inFlight)) inFlight.set(key, n)
    }
  })

  const retries: Counter<'route' | 'backend' | 'reason'> = new Counter({
    name: 'switchyard_retries_total',
    help: 'Requests sent to another target after an attempt on this backend failed: connect, timeout (connect), reset, status (a 502/503 answer)',
    labelNames: ['route', 'backend', 'reason'],
    registers,
    collect () {
      for (const cell of requests.cells()) {
        cell.retries.forEach((t, i) => flush(t, () => retries.labels(cell.route, cell.backend, RETRY_REASONS[i] ?? 'status')))
      }
    }
  })

  const failovers: Counter<'route' | 'backend' | 'fallback'> = new Counter({
    name: 'switchyard_failovers_total',
    help: 'Requests for a backend with no healthy target that its fallback served',
    labelNames: ['route', 'backend', 'fallback'],
    registers,
    collect () {
      for (const cell of requests.cells()) {
        for (const [fallback, t] of cell.failovers) flush(t, () => failovers.labels(cell.route, cell.backend, fallback))
      }
    }
  })

  const rejected: Counter<'reason' | 'code'> = new Counter({
    name: 'switchyard_rejected_requests_total',
    help: 'Requests switchyard answered itself, without a backend: no_route (404), malformed (400), headers_too_large (431), timeout (408: headers too slow), body_too_large (413: declared Content-Length over the route\'s maxBodyBytes), uri_too_long (414), connect (405: CONNECT), options_asterisk (200: OPTIONS *)',
    labelNames: ['reason', 'code'],
    registers,
    collect () {
      for (const reason of REJECT_REASONS) flush(requests.rejected[reason], () => rejected.labels(reason, String(REJECT_CODES[reason])))
    }
  })

  const upgrades: Counter<'route' | 'backend' | 'version' | 'code'> = new Counter({
    name: 'switchyard_websocket_upgrades_total',
    help: 'WebSocket (Upgrade) handshakes by the status the client got: 101 opened a tunnel; a refusal is the upstream\'s, 502/503/504 switchyard\'s',
    labelNames: ['route', 'backend', 'version', 'code'],
    registers,
    collect () {
      for (const cell of requests.cells()) {
        for (const [code, t] of cell.upgrades) flush(t, () => upgrades.labels(cell.route, cell.backend, cell.version, String(code)))
      }
    }
  })

  const tunnels: Gauge<'route' | 'backend'> = new Gauge({
    name: 'switchyard_websocket_connections_active',
    help: 'WebSocket tunnels open now',
    labelNames: ['route', 'backend'],
    registers,
    collect () {
      tunnels.reset()
      for (const [key, n] of sumByRouteBackend(requests, cell => cell.tunnelsOpen)) tunnels.set(key, n)
    }
  })

  let current: ConfigStore | undefined
  /** A gauge per (backend, target) of the running config, read from each target when scraped. */
  function perTargetGauge (name: string, help: string, read: (up: Upstream) => number, aggregator?: 'min'): void {
    const gauge: Gauge<'backend' | 'target'> = new Gauge({
      name,
      help,
      labelNames: ['backend', 'target'],
      registers,
      ...(aggregator === undefined ? {} : { aggregator }),
      collect () {
        gauge.reset()
        if (current === undefined || !current.loaded) return
        for (const rt of current.current.runtimes) {
          for (const up of rt.upstreams) gauge.set({ backend: rt.backend.name, target: up.origin }, read(up))
        }
      }
    })
  }

  // With --workers each process judges health alone: healthy only if all say so.
  perTargetGauge('switchyard_target_healthy',
    '1 while the target takes traffic, 0 while a health check failed it or outlier detection ejected it',
    up => up.available ? 1 : 0, 'min')

  perTargetGauge('switchyard_upstream_queue_waiting',
    'Requests waiting now for a connection to the target (all its `connections` are busy; HTTP/2: all the streams the backend allows on them)',
    up => up.waiting.length)

  const ejections: Counter<'target'> = new Counter({
    name: 'switchyard_outlier_ejections_total',
    help: 'Times outlier detection took a target out of rotation',
    labelNames: ['target'],
    registers
  })

  // Registers itself; it reads the cells at scrape time.
  new CellHistogram(
    'switchyard_request_duration_seconds',
    'Time from a request\'s arrival to the end of its response, as the client saw it, by route, backend and version',
    registry,
    requests
  )

  const config = new ConfigMetrics(registry)

  return {
    registry,
    requests,
    follow (store, upstreams) {
      current = store
      upstreams?.on('health', up => { if (up.ejected) ejections.inc({ target: up.origin }) })
      store.on('swap', next => {
        requests.follow(next.table)
        config.applied(next)
      })
      if (store.loaded) {
        requests.follow(store.current.table)
        config.applied(store.current)
      }
    },
    reloaded (outcome, origin) {
      config.reloaded(outcome, origin)
    }
  }
}
