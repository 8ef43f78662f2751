/**
 * The running configuration: one immutable snapshot (routing table plus the
 * backends' upstream pools), replaced in a single assignment. A request reads
 * `current` once and keeps that snapshot to its end, so a swap never changes
 * routing under a request in flight (Envoy's pinned route table, Traefik's
 * handler switcher).
 */
import { EventEmitter } from 'node:events'
import { BackendRuntime, type UpstreamRegistry } from './upstreams.js'
import type { HealthChecks } from './health-check.js'
import type { RoutingTable } from '../routing/types.js'

export interface ActiveConfig {
  readonly table: RoutingTable
  /** Indexed like `table.backends`. */
  readonly runtimes: readonly BackendRuntime[]
  /** The control plane's revision number of this config. */
  readonly revision: number
  readonly loadedAt: Date
}

export interface ConfigStoreEvents {
  swap: [next: ActiveConfig, previous: ActiveConfig | undefined]
}

export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  #current: ActiveConfig | undefined

  constructor (private readonly upstreams: UpstreamRegistry, private readonly healthChecks?: HealthChecks) {
    super()
  }

  /** The snapshot in force; throws before the first apply. */
  get current (): ActiveConfig {
    const c = this.#current
    if (c === undefined) throw new Error('no configuration applied yet')
    return c
  }

  get loaded (): boolean {
    return this.#current !== undefined
  }

  /** Makes `table` current: pools for its targets first, then one swap, then the old pools released. */
  apply (table: RoutingTable, revision: number): ActiveConfig {
    const previous = this.#current
    const runtimes = table.backends.map(b => new BackendRuntime(b, b.targets.map(t => this.upstreams.acquire(t, b))))
    const next: ActiveConfig = Object.freeze({
      table,
      runtimes: Object.freeze(runtimes),
      revision,
      loadedAt: new Date()
    })
    this.#current = next
    this.healthChecks?.sync(next.runtimes)
    if (previous !== undefined) {
      for (const rt of previous.runtimes) for (const up of rt.upstreams) this.upstreams.release(up)
    }
    this.emit('swap', next, previous)
    return next
  }
}
