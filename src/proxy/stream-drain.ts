/**
 * Long-lived gRPC streams and weight changes. A gRPC client keeps one
 * stream open for minutes or hours; it was routed when it began, so a
 * version whose weight goes to 0 would keep its streams forever and the
 * weights would never converge. After each config swap, a stream whose
 * served backend no longer gets traffic of its route and rule is ended
 * with UNAVAILABLE after a grace period (`listen.http2.streamDrainGrace`);
 * the client's next call is routed by the new weights.
 */
import type { Exchange, ExchangeSet } from './forward.js'
import { stillWeighted } from '../routing/reachable.js'
import type { RoutingTable } from '../routing/types.js'

export class GrpcStreams implements ExchangeSet {
  readonly #live = new Set<Exchange>()

  constructor (readonly graceMs: number) {}

  add (exchange: Exchange): void {
    this.#live.add(exchange)
    exchange.streams = this
  }

  delete (exchange: Exchange): void {
    this.#live.delete(exchange)
  }

  get size (): number {
    return this.#live.size
  }

  /** A new table is serving: schedule the end of streams on backends it no longer weights. */
  swapped (table: RoutingTable): void {
    if (this.graceMs === 0) return
    for (const x of this.#live) {
      const d = x.decision
      if (!stillWeighted(table, d.route.name, d.rule, x.servedBackend.name)) x.drainAfter(this.graceMs)
    }
  }
}
