/**
 * The composition root: load the config, start the proxy and admin
 * listeners, watch the file. `switchyard serve` and the tests both start
 * switchyard through `startSwitchyard()`.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve as resolvePath } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { buildAdminApp } from './admin/server.js'
import { buildFromFile } from './config/pipeline.js'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from './config/schema.js'
import { startTestpage, type Testpage } from './demo/testpage.js'
import { ConfigError } from './errors.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { registerMetricsRoute } from './observability/metrics-route.js'
import { createProxyServer } from './proxy/server.js'
import { UpstreamRegistry } from './proxy/upstreams.js'
import type { Entropy, RoutingTable } from './routing/types.js'
import { ConfigStore } from './runtime/config-store.js'
import { LiveConfig } from './runtime/live-config.js'

export interface StartOptions {
  readonly configPath: string
  readonly logger?: Logger
  /** Start a testpage backend on every local target (the newcomer's demo). */
  readonly demo?: boolean
  /** Watch the file for changes (default true). */
  readonly watch?: boolean
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
  /** What GET /metrics on the admin listener serves. */
  readonly registry: Registry
  close (): Promise<void>
}

function urlOf (server: Server): string {
  const a = server.address() as AddressInfo
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '127.0.0.1' : host}:${a.port}`
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

async function startDemoBackends (table: RoutingTable, logger: Logger): Promise<Testpage[]> {
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

  const upstreams = new UpstreamRegistry()
  const store = new ConfigStore(upstreams)
  const live = new LiveConfig(configPath, store, logger)
  const metrics = createMetrics(new Registry())
  metrics.follow(store, live)
  live.applyBuilt(built, 'start')

  const demoPages = opts.demo === true ? await startDemoBackends(built.table, logger) : []
  let draining = false
  let proxyUp = false

  const proxy = createProxyServer({ store, logger, entropy: opts.entropy, listener: metrics.requests })
  const admin = buildAdminApp({
    logger,
    readiness: {
      ready: () => store.loaded && proxyUp && !draining,
      reason: () => draining ? 'draining' : !proxyUp ? 'starting' : 'no config'
    }
  })
  registerMetricsRoute(admin, metrics.registry)

  const listen = { ...DEFAULT_LISTEN, ...config.listen }
  const adminAddr = { ...DEFAULT_ADMIN, ...config.admin }
  proxy.listen(listen.port, listen.host)
  await once(proxy, 'listening')
  proxyUp = true
  await admin.listen({ host: adminAddr.host, port: adminAddr.port })
  const adminServer = admin.server
  if (opts.watch !== false) await live.startWatching()

  const proxyUrl = urlOf(proxy)
  const adminUrl = urlOf(adminServer)
  logger.info({
    proxy: proxyUrl,
    admin: adminUrl,
    config: configPath,
    revision: store.current.revision,
    routes: built.table.routes.map(r => r.name),
    backends: Object.fromEntries(built.table.backends.map(b => [b.name, { version: b.version, targets: b.targets }]))
  }, 'switchyard started')

  let closing: Promise<void> | undefined
  return {
    proxyUrl,
    adminUrl,
    proxy,
    admin,
    store,
    live,
    logger,
    registry: metrics.registry,
    close () {
      closing ??= (async () => {
        draining = true
        await live.stopWatching()
        const proxyClosed = new Promise<void>(resolve => proxy.close(() => resolve()))
        proxy.closeIdleConnections()
        await proxyClosed
        await admin.close()
        await upstreams.closeAll()
        await Promise.all(demoPages.map(async p => await p.close()))
      })()
      return closing
    }
  }
}
