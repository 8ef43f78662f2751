/**
 * Counts every proxied request into its SeriesCell. The cells of a routing
 * table are found through its Route objects, so a request records into the
 * cells of the table it was routed by, even when a swap happens before it
 * ends. Cells are kept by label values across swaps: counters and
 * histograms must never go backwards while the process lives, and a config
 * can only name so many (route, backend, version) combinations.
 */
import { REJECT_REASONS, type ProxyListener, type RejectReason } from '../proxy/forward.js'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { Rejection } from '../proxy/rejection.js'
import { isUpstreamFailure, RETRY_REASONS, type RetryReason } from '../proxy/failure.js'
import { reachableBackends } from '../routing/reachable.js'
import type { Backend, Decision, Route, RoutingTable } from '../routing/types.js'
import { CLIENT_CLOSED_CODE, methodIndex, SeriesCell, Tally } from './series-cell.js'

export class RequestMetrics implements ProxyListener {
  /** Requests answered without a backend, by reason. */
  readonly rejected = Object.fromEntries(REJECT_REASONS.map(r => [r, new Tally()])) as Readonly<Record<RejectReason, Tally>>
  readonly #cells = new Map<string, SeriesCell>()
  /** Per compiled route, its cells indexed by backend index. */
  readonly #byRoute = new WeakMap<Route, ReadonlyArray<SeriesCell | undefined>>()
  #live = new Set<SeriesCell>()

  /** Prepares the cells of a newly applied table (called on every config swap). */
  follow (table: RoutingTable): void {
    const live = new Set<SeriesCell>()
    for (const route of table.routes) {
      const byBackend = new Array<SeriesCell | undefined>(table.backends.length).fill(undefined)
      for (const b of reachableBackends(route, table.backends)) {
        const cell = this.#cell(route.name, b.name, b.version)
        byBackend[b.index] = cell
        live.add(cell)
      }
      this.#byRoute.set(route, byBackend)
    }
    this.#live = live
  }

  /** Every cell since the process started. */
  cells (): IterableIterator<SeriesCell> {
    return this.#cells.values()
  }

  /** The cell is reachable in the running config. */
  isLive (cell: SeriesCell): boolean {
    return this.#live.has(cell)
  }

  onExchangeStart (decision: Decision): void {
    const cell = this.#byRoute.get(decision.route)?.[decision.backend.index]
    if (cell !== undefined) cell.inFlight++
  }

  /**
   * In flight counts under the backend the route decided; the response
   * under the backend that served it (its fallback after a failover).
   */
  onExchangeEnd (r: ExchangeRecord): void {
    const d = r.decision
    const cells = this.#byRoute.get(d.route)
    const decided = cells?.[d.backend.index]
    if (cells === undefined || decided === undefined) return // only for a table this listener never followed
    decided.inFlight--
    const served = r.served
    let cell = decided
    if (served !== d.backend) {
      decided.failover(served.name)
      cell = cells[served.index] ?? decided
    }
    const seconds = (r.endTime - r.startTime) / 1000
    const grpc = r.grpcStatus
    if (grpc >= 0) cell.observeGrpc(seconds, grpc)
    else cell.observe(seconds)
    // status 0: nothing was sent, the client left first.
    cell.rule(d.rule).add(methodIndex(r.method), r.status === 0 ? CLIENT_CLOSED_CODE : r.status, grpc, r.grpcError)
    // Only a response that carried the new cookie assigned a user; after a
    // 502 the user comes back without one and is assigned then.
    if (d.setStickyId !== undefined && r.headersForwarded) cell.stickyAssignments.value++
    const failure = r.failure
    if (failure === undefined || r.target === undefined) return
    if (isUpstreamFailure(failure)) {
      if (!r.clientClosed) cell.upstreamError(r.target, failure)
    } else if (failure === 'queue_full' || failure === 'queue_timeout') {
      cell.queueRejection(r.target, failure)
    }
  }

  /** An attempt failed and another target takes the request; counted under the backend that failed. */
  onRetry (decision: Decision, from: Backend, target: string, reason: RetryReason): void {
    const cell = this.#byRoute.get(decision.route)?.[from.index]
    if (cell === undefined) return
    cell.retries[RETRY_REASONS.indexOf(reason)]!.value++
    if (reason !== 'status') cell.upstreamError(target, reason)
  }

  onRejected (rejection: Rejection): void {
    this.rejected[rejection.reason].value++
  }

  onUpgrade (decision: Decision, served: Backend, code: number): void {
    const cell = this.#byRoute.get(decision.route)?.[served.index]
    if (cell === undefined) return
    cell.upgrade(code)
    if (code === 101) cell.tunnelsOpen++
  }

  onTunnelClosed (decision: Decision, served: Backend): void {
    const cell = this.#byRoute.get(decision.route)?.[served.index]
    if (cell !== undefined) cell.tunnelsOpen--
  }

  #cell (route: string, backend: string, version: string): SeriesCell {
    // Route and backend names cannot hold a NUL and the version comes last: the key is unambiguous.
    const key = `${route}\0${backend}\0${version}`
    let cell = this.#cells.get(key)
    if (cell === undefined) {
      cell = new SeriesCell(route, backend, version)
      this.#cells.set(key, cell)
    }
    return cell
  }
}
