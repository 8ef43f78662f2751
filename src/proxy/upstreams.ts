/**
 * Upstream connection pools and target health.
 *
 * One undici Pool per target origin, shared by every routing table that uses
 * the target: a config swap that keeps a target keeps its warm keep-alive
 * connections; a target dropped by a swap is closed only when no table uses
 * it any more, and undici's close() lets requests already on it finish.
 *
 * A target takes traffic while it is `available`: not failed by the active
 * health check, and not ejected by outlier detection (Envoy-style passive
 * ejection: N consecutive failures eject it for a time that grows on repeat).
 */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { buildConnector, Pool, type Dispatcher } from 'undici'
import { SwitchyardError } from '../errors.js'
import type { Backend, OutlierPolicy } from '../routing/types.js'
import type { FailureKind } from './failure.js'
import { H2Pool } from './h2-pool.js'

export type TargetHealth = 'healthy' | 'unhealthy' | 'ejected'

/** A request waiting for one of a target's connections. */
export interface Waiter {
  /** A connection is free and reserved for this waiter, which must use it or give it back (`releaseSlot`). */
  connectionFree (up: Upstream): void
}

function handOff (waiter: Waiter, up: Upstream): void {
  waiter.connectionFree(up)
}

export interface UpstreamEvents {
  /** A target started or stopped taking traffic. */
  health: [upstream: Upstream, reason: string]
}

export class Upstream {
  /** Requests for this target, sent or waiting, and not yet finished (for least-pending). */
  pending = 0
  /** Requests holding (or opening) one of the pool's connections (HTTP/2: streams): at most `capacity`, unless it shrank under them. */
  active = 0
  /**
   * Requests waiting for a connection, oldest first. switchyard keeps this
   * queue itself, rather than undici's pool, so that it can bound its length
   * and how long each waits, and answer the client while it waits.
   */
  readonly waiting: Waiter[] = []
  refs = 0
  /** Verdict of the active health check (true when there is none). */
  checkedHealthy = true
  ejected = false
  /** May take traffic: the one field the hot path reads. */
  available = true
  consecutiveFailures = 0
  /** Ejections in a row (the next one lasts this many base times). */
  ejections = 0
  #lastEjectionEnd = 0
  #ejectTimer: NodeJS.Timeout | undefined
  /**
   * For https targets, the `servername` every request dispatched here
   * carries: one constant, so that undici never reconnects because clients'
   * Host headers differ (it compares them per request). The connector sends
   * the real TLS server name (see tlsServerName).
   */
  servername: string | undefined

  constructor (
    readonly origin: string,
    readonly key: string,
    readonly pool: Dispatcher,
    /** The backend's `connections`: the pool's at most. */
    readonly connections: number,
    /**
     * Requests the pool takes at once: more wait in `waiting`. HTTP/1.1:
     * its connections; HTTP/2: the streams the backend allows on them, as
     * H2Pool reports (`setCapacity`).
     */
    public capacity: number,
    private readonly events: EventEmitter<UpstreamEvents>
  ) {}

  /** Takes a connection when one is free. */
  tryAcquire (): boolean {
    if (this.active >= this.capacity) return false
    this.active++
    return true
  }

  /**
   * Gives a connection back. The oldest waiter gets it on the next tick:
   * undici is still finishing with the connection when this is called.
   */
  releaseSlot (): void {
    this.active--
    this.#admit()
  }

  /** The pool takes `capacity` requests at once now (an HTTP/2 backend's SETTINGS, a connection gone). */
  setCapacity (capacity: number): void {
    this.capacity = capacity
    this.#admit()
  }

  /** Hands the free connections to the oldest waiters. */
  #admit (): void {
    while (this.active < this.capacity) {
      const next = this.waiting.shift()
      if (next === undefined) return
      this.active++
      process.nextTick(handOff, next, this)
    }
  }

  /** What the target has, for the queue's answers: `N connections`, over HTTP/2 `N connections with M streams`. */
  get capacityText (): string {
    return this.pool instanceof H2Pool ? `${this.connections} connections with ${this.capacity} streams` : `${this.connections} connections`
  }

  /**
   * Sends every waiting request to the pool now, past the connection limit:
   * the pool is about to close, and undici's close() lets requests it
   * already holds finish, but ours would find it closed.
   */
  flushWaiting (): void {
    for (const w of this.waiting.splice(0)) {
      this.active++
      w.connectionFree(this)
    }
  }

  /** Stops waiting (timed out, client gone). */
  leaveQueue (w: Waiter): void {
    const i = this.waiting.indexOf(w)
    if (i !== -1) this.waiting.splice(i, 1)
  }

  get health (): TargetHealth {
    return this.ejected ? 'ejected' : this.checkedHealthy ? 'healthy' : 'unhealthy'
  }

  setChecked (healthy: boolean, reason: string): void {
    if (this.checkedHealthy === healthy) return
    this.checkedHealthy = healthy
    this.#update(reason)
  }

  /**
   * Counts a failed exchange; ejects the target after `policy.consecutiveFailures`.
   * 5xx-driven (`status`) ejections respect the backend's cap; a target that
   * cannot be connected to or resets is taken out regardless (traffic there
   * cannot succeed).
   */
  recordFailure (kind: FailureKind, policy: OutlierPolicy | undefined, siblings: readonly Upstream[]): void {
    if (policy === undefined || this.ejected) return
    if (++this.consecutiveFailures < policy.consecutiveFailures) return
    if (kind === 'status') {
      const ejected = siblings.reduce((n, up) => n + (up.ejected ? 1 : 0), 0)
      if (100 * (ejected + 1) / siblings.length > policy.maxEjectionPercent) return
    }
    const now = Date.now()
    // Ejections "in a row" decay: after a quiet spell as long as the last ejection, start again at 1.
    if (now - this.#lastEjectionEnd > policy.baseEjectionMs * Math.max(1, this.ejections)) this.ejections = 0
    this.ejections++
    const duration = Math.min(policy.baseEjectionMs * this.ejections, policy.maxEjectionMs)
    this.ejected = true
    this.#update(`ejected for ${duration} ms after ${this.consecutiveFailures} consecutive failures (${kind === 'status' ? '5xx' : kind})`)
    this.#ejectTimer = setTimeout(() => {
      this.#ejectTimer = undefined
      this.ejected = false
      this.consecutiveFailures = 0
      this.#lastEjectionEnd = Date.now()
      this.#update('ejection ended')
    }, duration)
    this.#ejectTimer.unref()
  }

  #update (reason: string): void {
    const available = this.checkedHealthy && !this.ejected
    if (available === this.available) return
    this.available = available
    this.events.emit('health', this, reason)
  }

  dispose (): void {
    if (this.#ejectTimer !== undefined) clearTimeout(this.#ejectTimer)
  }
}

function poolKey (origin: string, b: Backend): string {
  const tls = b.tls === undefined ? '' : `|${b.tls.caFile ?? ''}|${String(b.tls.insecure)}|${b.tls.serverName ?? ''}`
  return `${origin}|${b.connections}|${b.keepAliveTimeoutMs}|${b.connectTimeoutMs}|${b.protocol}${tls}`
}

/**
 * HTTP/2 streams one upstream connection may carry at once (fewer when the
 * backend's SETTINGS say so). An h2c/h2 target takes `connections` times
 * what its SETTINGS allow, at most this many, before requests wait in
 * switchyard's queue (H2Pool reports the sum to the Upstream).
 */
const H2_STREAMS_PER_CONNECTION = 100

/**
 * The TLS server name of an https target: the backend's `tls.serverName`,
 * else the target's host name (none for an IP address: the certificate is
 * then checked against the IP). undici would otherwise take it from each
 * request's Host header, i.e. from the client, and reconnect whenever it
 * changes.
 */
function tlsServerName (origin: string, backend: Backend): string | undefined {
  const host = new URL(origin).hostname
  return backend.tls?.serverName ?? (isIP(host.replace(/^\[|\]$/g, '')) === 0 ? host : undefined)
}

/** The backend's CA bundle, read when the pool is made. */
function readCa (backend: Backend): string | undefined {
  const file = backend.tls?.caFile
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new SwitchyardError('SY_ERR_TLS_CA', `backend ${backend.name}: cannot read the CA bundle ${file}: ${(err as Error).message}`)
  }
}

/**
 * The pool of a target: undici's for HTTP/1.1; for `h2c`/`h2`, H2Pool on
 * node:http2, which multiplexes requests with bodies (undici 7 does not,
 * see h2-pool.ts).
 */
function makePool (origin: string, backend: Backend): Dispatcher {
  const ca = readCa(backend)
  const servername = tlsServerName(origin, backend)
  const insecure = backend.tls?.insecure === true
  if (backend.protocol !== 'http1') {
    return new H2Pool(origin, {
      connections: backend.connections,
      streamsPerConnection: H2_STREAMS_PER_CONNECTION,
      connectTimeoutMs: backend.connectTimeoutMs,
      keepAliveTimeoutMs: backend.keepAliveTimeoutMs,
      ...(origin.startsWith('https:') ? { tls: { ca, rejectUnauthorized: !insecure, servername } } : {})
    })
  }
  const connector = buildConnector({
    timeout: backend.connectTimeoutMs,
    ...(ca === undefined ? {} : { ca }),
    ...(insecure ? { rejectUnauthorized: false } : {})
  } as buildConnector.BuildOptions)
  return new Pool(origin, {
    connections: backend.connections,
    pipelining: 1,
    // Pinned: undici 8 turns allowH2 on by default.
    allowH2: false,
    keepAliveTimeout: backend.keepAliveTimeoutMs,
    // The server's Keep-Alive hint may shorten this, never lengthen it.
    keepAliveMaxTimeout: Math.max(backend.keepAliveTimeoutMs, 1000),
    // The target's server name, never the one undici derives from the client's Host header.
    connect: (opts, callback) => { connector({ ...opts, servername }, callback) }
  })
}

export class UpstreamRegistry extends EventEmitter<UpstreamEvents> {
  readonly #byKey = new Map<string, Upstream>()

  acquire (origin: string, backend: Backend): Upstream {
    const key = poolKey(origin, backend)
    let up = this.#byKey.get(key)
    if (up === undefined) {
      const pool = makePool(origin, backend)
      const created = up = new Upstream(origin, key, pool, backend.connections, pool instanceof H2Pool ? pool.capacity : backend.connections, this)
      if (pool instanceof H2Pool) pool.onCapacity = streams => { created.setCapacity(streams) }
      if (origin.startsWith('https:')) up.servername = new URL(origin).hostname
      this.#byKey.set(key, up)
    }
    up.refs++
    return up
  }

  release (up: Upstream): void {
    if (--up.refs > 0) return
    this.#byKey.delete(up.key)
    up.dispose()
    up.flushWaiting()
    // close() waits for requests already dispatched; nothing new is sent.
    up.pool.close().catch(() => {})
  }

  get size (): number {
    return this.#byKey.size
  }

  async closeAll (): Promise<void> {
    const all = [...this.#byKey.values()]
    this.#byKey.clear()
    for (const up of all) {
      up.dispose()
      up.flushWaiting()
    }
    await Promise.all(all.map(async up => await up.pool.close().catch(() => {})))
  }
}

/** A backend's targets at runtime, the balancing among them, and its retry budget. */
export class BackendRuntime {
  #next = 0
  // Retry budget: requests and retries in the current and the previous second.
  #second = 0
  #requests = 0
  #retries = 0
  #prevRequests = 0
  #prevRetries = 0

  constructor (readonly backend: Backend, readonly upstreams: readonly Upstream[]) {}

  /** Counts a request (first attempt) at `nowMs` (performance.now()). */
  countRequest (nowMs: number): void {
    this.#roll(nowMs)
    this.#requests++
  }

  /**
   * Takes one retry from the budget: retries over the last one to two
   * seconds may be at most `percent` % of the requests, plus `minPerSecond`.
   * A sliding window, not a concurrency cap: a target dying with many
   * requests on it causes one burst of retries, which the budget absorbs,
   * while a backend failing everything cannot double its load.
   */
  takeRetry (nowMs: number, percent: number, minPerSecond: number): boolean {
    this.#roll(nowMs)
    const allowed = minPerSecond + (this.#requests + this.#prevRequests) * percent / 100
    if (this.#retries + this.#prevRetries >= allowed) return false
    this.#retries++
    return true
  }

  #roll (nowMs: number): void {
    const second = Math.floor(nowMs / 1000)
    if (second === this.#second) return
    const adjacent = second === this.#second + 1
    this.#prevRequests = adjacent ? this.#requests : 0
    this.#prevRetries = adjacent ? this.#retries : 0
    this.#requests = 0
    this.#retries = 0
    this.#second = second
  }

  /** The next target to use, skipping unavailable ones and `exclude`; undefined when none is left. */
  pick (exclude?: readonly Upstream[]): Upstream | undefined {
    const ups = this.upstreams
    const n = ups.length
    const start = this.#next
    this.#next = start + 1 >= n ? 0 : start + 1
    const first = ups[start] as Upstream
    // The common case: round robin, the target is fine.
    if (this.backend.balance === 'round-robin' && first.available && exclude === undefined) return first
    let best: Upstream | undefined
    for (let i = 0; i < n; i++) {
      const up = ups[(start + i) % n] as Upstream
      if (!up.available || (exclude !== undefined && exclude.includes(up))) continue
      if (this.backend.balance === 'round-robin') return up
      // least-pending: fewest requests in flight, ties broken round-robin.
      if (best === undefined || up.pending < best.pending) best = up
    }
    return best
  }
}

/**
 * An available target of the backend at `index`, else of its fallback chain
 * (failover); undefined when every one of them is out.
 */
export interface Target { readonly runtime: BackendRuntime, readonly upstream: Upstream }

export function selectTarget (runtimes: readonly BackendRuntime[], index: number, exclude: readonly Upstream[] | undefined): Target | undefined {
  let rt = runtimes[index]
  // The chain is acyclic (validated), so it is at most as long as the backend list.
  for (let hops = 0; rt !== undefined && hops < runtimes.length; hops++) {
    const upstream = rt.pick(exclude)
    if (upstream !== undefined) return { runtime: rt, upstream }
    rt = rt.backend.fallback === undefined ? undefined : runtimes[rt.backend.fallback]
  }
  return undefined
}
