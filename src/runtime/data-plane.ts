/**
 * The data plane: the running config (store), upstream pools and their
 * health, and the proxy listener with its graceful stop. `serve` runs one
 * next to the admin listener; with `--workers`, each worker runs one and the
 * primary runs the admin side (src/cluster.ts).
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { Logger } from 'pino'
import type { ProxyListener } from '../proxy/forward.js'
import { HealthChecks } from '../proxy/health-check.js'
import { createProxyServer } from '../proxy/server.js'
import { UpstreamRegistry } from '../proxy/upstreams.js'
import { TunnelRegistry } from '../proxy/websocket.js'
import type { Entropy, ServerSettings } from '../routing/types.js'
import { ConfigStore } from './config-store.js'

export interface DataPlaneOptions {
  readonly logger: Logger
  readonly settings: ServerSettings
  readonly listener?: ProxyListener
  readonly entropy?: Entropy
}

export interface DataPlane {
  readonly store: ConfigStore
  readonly upstreams: UpstreamRegistry
  readonly proxy: Server
  readonly tunnels: TunnelRegistry
  /** True from the start of a stop: /readyz answers 503, responses close their connection. */
  readonly draining: boolean
  readonly listening: boolean
  listen (host: string, port: number): Promise<void>
  /**
   * Graceful stop: after `drainDelayMs` (time for Kubernetes to take the pod
   * out of its Endpoints) new connections are refused, WebSockets get a
   * Close frame, and requests in flight have `shutdown.timeout` to finish
   * before the remaining connections are cut. `beforeClose` runs between
   * the delay and the close (e.g. to stop watching the config file).
   */
  stop (drainDelayMs: number, beforeClose?: () => Promise<void>): Promise<void>
}

export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

export function createDataPlane (opts: DataPlaneOptions): DataPlane {
  const { logger, settings } = opts
  const upstreams = new UpstreamRegistry()
  upstreams.on('health', (up, reason) => {
    logger.warn({ target: up.origin, available: up.available, health: up.health, reason }, up.available ? 'target back in rotation' : 'target out of rotation')
  })
  const healthChecks = new HealthChecks()
  const store = new ConfigStore(upstreams, healthChecks)
  const tunnels = new TunnelRegistry()
  let draining = false
  let listening = false
  const proxy = createProxyServer({ store, logger, entropy: opts.entropy, settings, tunnels, draining: () => draining, listener: opts.listener })

  let stopping: Promise<void> | undefined
  return {
    store,
    upstreams,
    proxy,
    tunnels,
    get draining () { return draining },
    get listening () { return listening },
    async listen (host, port) {
      proxy.listen(port, host)
      await once(proxy, 'listening')
      listening = true
    },
    stop (drainDelayMs, beforeClose) {
      stopping ??= (async () => {
        draining = true
        if (drainDelayMs > 0) {
          logger.info({ drainDelayMs, shutdownTimeoutMs: settings.shutdownTimeoutMs }, 'draining: /readyz answers 503, connections close after their response')
          await sleep(drainDelayMs)
        }
        await beforeClose?.()
        const proxyClosed = listening ? new Promise<void>(resolve => proxy.close(() => resolve())) : Promise.resolve()
        proxy.closeIdleConnections()
        const tunnelsClosed = tunnels.closeAll(Math.min(1000, settings.shutdownTimeoutMs))
        // The timeout must not outlive a stop that finished in time: it would hold the process up to shutdownTimeoutMs.
        let timeout: NodeJS.Timeout | undefined
        const finished = await Promise.race([proxyClosed.then(() => true), new Promise<false>(resolve => { timeout = setTimeout(() => resolve(false), settings.shutdownTimeoutMs) })])
        clearTimeout(timeout)
        if (!finished) {
          logger.warn({ shutdownTimeoutMs: settings.shutdownTimeoutMs }, 'requests still in flight at the shutdown timeout; closing their connections')
          proxy.closeAllConnections()
        }
        await tunnelsClosed
        healthChecks.stopAll()
        await upstreams.closeAll()
      })()
      return stopping
    }
  }
}
