/**
 * The data plane: the running config (store), upstream pools and their
 * health, and the proxy listener with its graceful stop. It knows nothing
 * of where configs come from: the control plane drives it through a plane
 * link (src/link/), in the same process or, with `--workers`, over IPC.
 */
import { EventEmitter, once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { DEFAULT_LISTEN } from '../config/defaults.js'
import { ConfigStore } from '../proxy/config-store.js'
import type { ProxyListener } from '../proxy/forward.js'
import { HealthChecks } from '../proxy/health-check.js'
import { createProxyObservers, type ProxyObservers } from '../observability/proxy-observers.js'
import { createProxyServer, type ProxyServer } from '../proxy/server.js'
import { UpstreamRegistry, type TargetHealth } from '../proxy/upstreams.js'
import { TunnelRegistry } from '../proxy/websocket.js'
import type { Entropy, RoutingTable, ServerSettings } from '../routing/types.js'

/** One target as the data plane sees it now. */
export interface TargetState {
  readonly backend: string
  readonly url: string
  /** Requests on it now. */
  readonly inFlight: number
  readonly health: TargetHealth
}

/** A target started or stopped taking traffic. */
export interface HealthEvent {
  readonly target: string
  readonly available: boolean
  readonly health: TargetHealth
  readonly reason: string
}

export interface DataPlaneEvents {
  health: [event: HealthEvent]
}

export interface DataPlaneOptions {
  readonly logger: Logger
  readonly settings: ServerSettings
  /** The metrics listener; the error log, access log and tracing are added here. */
  readonly listener?: ProxyListener
  readonly entropy?: Entropy
}

export interface DataPlane extends EventEmitter<DataPlaneEvents> {
  readonly store: ConfigStore
  readonly upstreams: UpstreamRegistry
  readonly proxy: Server
  readonly tunnels: TunnelRegistry
  readonly settings: ServerSettings
  /** True from the start of a stop: /readyz answers 503, responses close their connection. */
  readonly draining: boolean
  readonly listening: boolean
  /** Serves `table` from now on, as the control plane's `revision`. */
  apply (table: RoutingTable, revision: number): void
  /** Binds the proxy listener; resolves with its URL (`http://127.0.0.1:8080`), rejects when the address is taken. */
  listen (host: string, port: number): Promise<string>
  /** Every target of the running config. */
  targets (): TargetState[]
  /**
   * Graceful stop: after `drainDelayMs` (time for Kubernetes to take the pod
   * out of its Endpoints) new connections are refused, WebSockets get a
   * Close frame, and requests in flight have `shutdown.timeout` to finish
   * before the remaining connections are cut. `beforeClose` runs between
   * the delay and the close (e.g. to stop watching the config file).
   */
  stop (drainDelayMs: number, beforeClose?: () => Promise<void>): Promise<void>
}

/** Where a table says the proxy listens (bound at start; a change needs a restart). */
export function listenAddress (table: RoutingTable): { host: string, port: number } {
  const listen = table.config.listen
  return { host: listen?.host ?? DEFAULT_LISTEN.host, port: listen?.port ?? DEFAULT_LISTEN.port }
}

/** The URL clients use for a bound server: IPv6 in brackets, a wildcard address as loopback. */
export function urlOf (server: Server, secure = false): string {
  const a = server.address() as AddressInfo
  const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `${secure ? 'https' : 'http'}://${host}:${a.port}`
}

export function createDataPlane (opts: DataPlaneOptions): DataPlane {
  return new ProxyPlane(opts)
}

class ProxyPlane extends EventEmitter<DataPlaneEvents> implements DataPlane {
  readonly upstreams = new UpstreamRegistry()
  readonly tunnels = new TunnelRegistry()
  readonly store: ConfigStore
  readonly proxy: Server
  readonly settings: ServerSettings
  readonly #logger: Logger
  readonly #healthChecks = new HealthChecks()
  readonly #observers: ProxyObservers
  /** The proxy listener's HTTP/2 side and TLS certificates. */
  readonly #front: ProxyServer
  #draining = false
  #listening = false
  #stopping: Promise<void> | undefined

  constructor (opts: DataPlaneOptions) {
    super()
    const { logger, settings } = opts
    this.#logger = logger
    this.settings = settings
    this.upstreams.on('health', (up, reason) => {
      logger.warn({ target: up.origin, available: up.available, health: up.health, reason }, up.available ? 'target back in rotation' : 'target out of rotation')
      this.emit('health', { target: up.origin, available: up.available, health: up.health, reason })
    })
    this.store = new ConfigStore(this.upstreams, this.#healthChecks)
    this.#observers = createProxyObservers(logger, opts.listener)
    this.#observers.follow(this.store)
    this.#front = createProxyServer({
      store: this.store, logger, entropy: opts.entropy, settings, tunnels: this.tunnels, draining: () => this.#draining,
      listener: this.#observers.listener, tracing: this.#observers.tracing
    })
    this.proxy = this.#front.server
  }

  get draining (): boolean { return this.#draining }
  get listening (): boolean { return this.#listening }

  apply (table: RoutingTable, revision: number): void {
    // Once stopping, new pools and health checks would outlive the plane.
    if (this.#stopping === undefined) this.store.apply(table, revision)
  }

  async listen (host: string, port: number): Promise<string> {
    // The first requests are traced when the config asks for it.
    await this.#observers.ready()
    // Rotated certificate files are picked up from the start.
    await this.#front.certificates?.watch()
    this.proxy.listen(port, host)
    await once(this.proxy, 'listening')
    this.#listening = true
    return urlOf(this.proxy, this.#front.certificates !== undefined)
  }

  targets (): TargetState[] {
    return this.store.current.runtimes.flatMap(rt => rt.upstreams.map(up => ({ backend: rt.backend.name, url: up.origin, inFlight: up.pending, health: up.health })))
  }

  stop (drainDelayMs: number, beforeClose?: () => Promise<void>): Promise<void> {
    this.#stopping ??= this.#stop(drainDelayMs, beforeClose)
    return this.#stopping
  }

  async #stop (drainDelayMs: number, beforeClose?: () => Promise<void>): Promise<void> {
    const { proxy, settings } = this
    this.#draining = true
    if (drainDelayMs > 0) {
      this.#logger.info({ drainDelayMs, shutdownTimeoutMs: settings.shutdownTimeoutMs }, 'draining: /readyz answers 503, connections close after their response')
      await sleep(drainDelayMs)
    }
    await beforeClose?.()
    const proxyClosed = this.#listening ? new Promise<void>(resolve => proxy.close(() => resolve())) : Promise.resolve()
    proxy.closeIdleConnections()
    // HTTP/2 clients get GOAWAY: streams in flight finish, new ones go elsewhere.
    this.#front.http2?.closeAll()
    const tunnelsClosed = this.tunnels.closeAll(Math.min(1000, settings.shutdownTimeoutMs))
    // The timeout is cancelled once the listener closes: a pending timer would keep the process alive for its whole length.
    const timeout = new AbortController()
    const finished = await Promise.race([
      proxyClosed.then(() => true),
      sleep(settings.shutdownTimeoutMs, false, { signal: timeout.signal }).catch(() => false)
    ])
    timeout.abort()
    if (!finished) {
      this.#logger.warn({ shutdownTimeoutMs: settings.shutdownTimeoutMs }, 'requests still in flight at the shutdown timeout; closing their connections')
      proxy.closeAllConnections()
      this.#front.http2?.destroyAll()
    }
    await tunnelsClosed
    this.#healthChecks.stopAll()
    await this.upstreams.closeAll()
    await this.#front.certificates?.close()
    await this.#observers.close()
  }
}
