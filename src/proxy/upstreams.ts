/**
 * Upstream connection pools, one undici Pool per target origin, shared by
 * every routing table that uses the target. A config swap that keeps a
 * target keeps its warm keep-alive connections; a target dropped by a swap
 * is closed only when no table uses it any more, and undici's close() lets
 * requests already on it finish.
 */
import { Pool } from 'undici'
import type { Backend } from '../routing/types.js'

export type TargetHealth = 'healthy' | 'unhealthy' | 'unknown'

export class Upstream {
  /** Requests dispatched to this target and not yet finished (for least-pending). */
  pending = 0
  refs = 0
  /** `unknown` until health checking says otherwise. */
  health: TargetHealth = 'unknown'

  constructor (readonly origin: string, readonly key: string, readonly pool: Pool) {}
}

function poolKey (origin: string, b: Backend): string {
  return `${origin}|${b.connections}|${b.keepAliveTimeoutMs}`
}

export class UpstreamRegistry {
  readonly #byKey = new Map<string, Upstream>()

  acquire (origin: string, backend: Backend): Upstream {
    const key = poolKey(origin, backend)
    let up = this.#byKey.get(key)
    if (up === undefined) {
      up = new Upstream(origin, key, new Pool(origin, {
        connections: backend.connections,
        pipelining: 1,
        keepAliveTimeout: backend.keepAliveTimeoutMs,
        // The server's Keep-Alive hint may shorten this, never lengthen it.
        keepAliveMaxTimeout: Math.max(backend.keepAliveTimeoutMs, 1000),
        connect: { timeout: 10_000 }
      }))
      this.#byKey.set(key, up)
    }
    up.refs++
    return up
  }

  release (up: Upstream): void {
    if (--up.refs > 0) return
    this.#byKey.delete(up.key)
    // close() waits for requests already dispatched; nothing new is sent.
    up.pool.close().catch(() => {})
  }

  get size (): number {
    return this.#byKey.size
  }

  async closeAll (): Promise<void> {
    const all = [...this.#byKey.values()]
    this.#byKey.clear()
    await Promise.all(all.map(async up => await up.pool.close().catch(() => {})))
  }

  destroyAll (): void {
    for (const up of this.#byKey.values()) up.pool.destroy().catch(() => {})
    this.#byKey.clear()
  }
}

/** A backend's targets at runtime, and the balancing among them. */
export class BackendRuntime {
  #next = 0

  constructor (readonly backend: Backend, readonly upstreams: readonly Upstream[]) {}

  pick (): Upstream {
    const ups = this.upstreams
    const n = ups.length
    if (n === 1) return ups[0] as Upstream
    const start = this.#next
    this.#next = start + 1 === n ? 0 : start + 1
    if (this.backend.balance === 'round-robin') return ups[start] as Upstream
    // least-pending: fewest requests in flight, ties broken round-robin.
    let best = ups[start] as Upstream
    for (let i = 1; i < n; i++) {
      const up = ups[(start + i) % n] as Upstream
      if (up.pending < best.pending) best = up
    }
    return best
  }
}
