/**
 * The composition root: load the config, start the proxy and admin
 * listeners, watch the file. `switchyard serve` and the tests both start
 * switchyard through `startSwitchyard()`.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve as resolvePath } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { isLoopback, tokenFromEnv } from './admin/auth.js'
import { registerConsole } from './admin/console.js'
import { buildAdminApp } from './admin/server.js'
import { buildFromFile } from './config/pipeline.js'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from './config/defaults.js'
import { startTestpage, type Testpage } from './demo/testpage.js'
import { ConfigError } from './errors.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { registerMetricsRoute } from './observability/metrics-route.js'
import { UpstreamRegistry } from './proxy/upstreams.js'
import { TunnelRegistry } from './proxy/websocket.js'
import type { Entropy, RoutingTable } from './routing/types.js'
import { ConfigStore } from './runtime/config-store.js'
import { LiveConfig } from './runtime/live-config.js'
import { createDataPlane } from './runtime/data-plane.js'
import { DEFAULT_HISTORY_LIMIT, RevisionHistory, historyFileFor } from './runtime/history.js'

export interface StartOptions {
  readonly configPath: string
  readonly logger?: Logger
  /** Start a testpage backend on every local target (the newcomer's demo). */
  readonly demo?: boolean
  /** Watch the file for changes (default true). */
  readonly watch?: boolean
  /** Where the revision history is kept; default $SWITCHYARD_STATE_DIR, else the config's directory. */
  readonly stateDir?: string
  /** Bearer token for the admin API; default from SWITCHYARD_ADMIN_TOKEN(_FILE). */
  readonly adminToken?: string
  readonly entropy?: Entropy
}

export interface Switchyard {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly proxy: Server
  readonly admin: FastifyInstance
  readonly store: ConfigStore
  readonly live: LiveConfig
  readonly logger: Logger
  readonly tunnels: TunnelRegistry
  /** Upstream pools and target health ('health' events). */
  readonly upstreams: UpstreamRegistry
  /** What GET /metrics on the admin listener serves. */
  readonly registry: Registry
  /** Graceful stop (SIGTERM): drain delay, then finish requests in flight. */
  shutdown (): Promise<void>
  /** Immediate stop: no drain delay; requests in flight still finish. */
  close (): Promise<void>
}

function urlOf (server: Server): string {
  const a = server.address() as AddressInfo
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '127.0.0.1' : host}:${a.port}`
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

export async function startDemoBackends (table: RoutingTable, logger: Logger): Promise<Testpage[]> {
  const pages: Testpage[] = []
  for (const b of table.backends) {
    for (const t of b.targets) {
      const u = new URL(t)
      if (!LOCAL_HOSTS.has(u.hostname) || u.protocol !== 'http:') continue
      pages.push(await startTestpage(b.version, Number(u.port || 80), u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '')))
      logger.info({ backend: b.name, version: b.version, target: t }, 'demo backend started')
    }
  }
  return pages
}

export async function startSwitchyard (opts: StartOptions): Promise<Switchyard> {
  const configPath = resolvePath(opts.configPath)
  const built = await buildFromFile(configPath)
  if (!built.ok) throw new ConfigError(built.problems, configPath)
  const config = built.table.config
  const logger = opts.logger ?? createLogger(config.log?.level ?? 'info')

  const metrics = createMetrics(new Registry())
  const plane = createDataPlane({ logger, settings: built.table.server, listener: metrics.requests, entropy: opts.entropy })
  const { store, upstreams, proxy } = plane
  const stateDir = opts.stateDir ?? process.env.SWITCHYARD_STATE_DIR ?? dirname(configPath)
  const history = new RevisionHistory(historyFileFor(configPath, stateDir), config.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT, logger)
  const live = new LiveConfig(configPath, store, history, logger)
  metrics.follow(store, live, upstreams)
  await live.start(built)

  const demoPages = opts.demo === true ? await startDemoBackends(built.table, logger) : []
  const adminAddr = { ...DEFAULT_ADMIN, ...config.admin }
  const auth = { token: opts.adminToken ?? tokenFromEnv(), loopback: isLoopback(adminAddr.host) }
  const admin = buildAdminApp({
    logger,
    api: { live, auth },
    readiness: {
      ready: () => store.loaded && plane.listening && !plane.draining,
      reason: () => plane.draining ? 'draining' : !plane.listening ? 'starting' : 'no config'
    }
  })
  registerMetricsRoute(admin, metrics.registry)
  registerConsole(admin, { auth, cells: metrics.requests })

  const listen = { ...DEFAULT_LISTEN, ...config.listen }
  try {
    await plane.listen(listen.host, listen.port)
    await admin.listen({ host: adminAddr.host, port: adminAddr.port })
  } catch (err) {
    // A port in use, say: undo what started so that the caller can exit.
    await plane.stop(0)
    await admin.close().catch(() => {})
    await Promise.all(demoPages.map(async p => await p.close()))
    throw err
  }
  if (opts.watch !== false) await live.startWatching()

  const proxyUrl = urlOf(proxy)
  const adminUrl = urlOf(admin.server)
  logger.info({
    proxy: proxyUrl,
    admin: adminUrl,
    config: configPath,
    revision: store.current.revision,
    routes: built.table.routes.map(r => r.name),
    backends: Object.fromEntries(built.table.backends.map(b => [b.name, { version: b.version, targets: b.targets }]))
  }, 'switchyard started')

  let closing: Promise<void> | undefined
  const shutdown = (drainDelayMs: number): Promise<void> => {
    closing ??= (async () => {
      await plane.stop(drainDelayMs, async () => await live.stopWatching())
      await admin.close()
      await Promise.all(demoPages.map(async p => await p.close()))
    })()
    return closing
  }
  return {
    proxyUrl,
    adminUrl,
    proxy,
    admin,
    store,
    live,
    logger,
    tunnels: plane.tunnels,
    upstreams,
    registry: metrics.registry,
    shutdown: async () => await shutdown(built.table.server.drainDelayMs),
    close: async () => await shutdown(0)
  }
}
