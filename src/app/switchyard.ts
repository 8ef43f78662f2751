/**
 * The composition root: the one place that builds a switchyard from its
 * parts, in each of its three modes.
 *
 * - Single process (the default): the control plane (live config, history,
 *   operations, admin listener) and one data plane, joined by an in-process
 *   plane link.
 * - Primary (`serve --workers N`): the same control plane; the data planes
 *   run in N node:cluster workers behind an IPC plane link, and /metrics
 *   adds up their registries.
 * - Worker: a data plane fed by the primary over IPC; no control plane.
 *
 * `switchyard serve` and the tests start switchyard through
 * `createSwitchyard()`.
 */
import { resolve as resolvePath } from 'node:path'
import cluster from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AggregatorRegistry, Registry } from 'prom-client'
import { isLoopback, tokenFromEnv } from '../admin/auth.js'
import { registerConsole } from '../admin/console.js'
import { buildAdminApp } from '../admin/server.js'
import { DEFAULT_ADMIN } from '../config/defaults.js'
import { LiveConfig } from '../control/live-config.js'
import { Operations } from '../control/operations.js'
import { fleetCountersReader } from '../control/fleet-counters.js'
import { fleetSide, fleetSource } from '../control/sources/fleet-source.js'
import { RolloutController, DEFAULT_TICK_MS } from '../control/rollouts/controller.js'
import type { Leadership } from '../control/rollouts/leadership.js'
import { metricsReader, workersReader, type CountersReader } from '../control/rollouts/readings.js'
import { FileRolloutStore, FleetRolloutStore, MemoryRolloutStore, rolloutFileFor, type RolloutStore } from '../control/rollouts/store.js'
import type { ConfigSource } from '../control/source.js'
import { openSource } from '../control/sources/open.js'
import { createDataPlane, urlOf, type DataPlane } from '../dataplane/plane.js'
import { InProcessLink } from '../link/in-process.js'
import { IpcLink, serveIpcLink } from '../link/ipc.js'
import type { PlaneLink } from '../link/link.js'
import { warnAccessLogPlacement } from '../observability/access-log.js'
import { loggerFor } from '../observability/logger.js'
import { createMetrics, type Metrics } from '../observability/metrics.js'
import { registerMetricsRoute, type MetricsSource } from '../observability/metrics-route.js'
import type { RoutingStore } from '../fleet/store.js'
import { parseStoreUrl } from '../fleet/store-url.js'
import { createRolloutMetrics } from '../observability/rollout-metrics.js'
import { AggregatedCells } from '../observability/aggregated-cells.js'
import type { Entropy, RoutingTable } from '../routing/types.js'
import { startTestpage, type Testpage } from '../testpage/testpage.js'
import { startFleet, type Fleet } from './fleet.js'

export interface StartOptions {
  readonly configPath: string
  readonly logger?: Logger
  /** Start a testpage backend on every local target (the newcomer's demo). */
  readonly demo?: boolean
  /** Watch the file for changes (default true). */
  readonly watch?: boolean
  /**
   * A fleet's routing store (`etcd://…`, `kubernetes://…`): the routing lives
   * there, the process settings stay in `configPath` (which seeds an empty store).
   * A store already opened (tests tune its timings) is used as it is, and closed with switchyard.
   */
  readonly store?: string | RoutingStore
  /** This replica's name in the fleet (membership, election); default POD_NAME, else HOST-PID. */
  readonly identity?: string
  /** Where the revision history is kept; default $SWITCHYARD_STATE_DIR, else the config's directory. */
  readonly stateDir?: string
  /** Bearer token for the admin API; default from SWITCHYARD_ADMIN_TOKEN(_FILE). */
  readonly adminToken?: string
  readonly entropy?: Entropy
  /** Data-plane worker processes; 1 (the default) runs the data plane in this process. */
  readonly workers?: number
  /** With workers: the script each worker runs (default: this process's own, the CLI). */
  readonly workerExec?: string
  readonly rollouts?: RolloutOptions
}

/** How rollouts run; tests inject the clock and drive the looks themselves. */
export interface RolloutOptions {
  /** The controller's clock in ms (default Date.now). */
  readonly now?: () => number
  /** Milliseconds between looks (default 5 s); `false`: no timer, the caller calls `rollouts.tick()`. */
  readonly tickMs?: number | false
  /** Whether this instance leads (default: always, a single instance). */
  readonly leadership?: Leadership
  /** Where the judge's counts come from (default: this process's metrics, summed over workers). */
  readonly counters?: CountersReader
  /** Where rollouts are kept (default: `<state dir>/<config file>.rollouts.json`). */
  readonly store?: RolloutStore
}

/** In a `serve --workers` worker process: run the data plane the primary feeds. */
export interface WorkerRole {
  readonly role: 'worker'
}

export interface Switchyard {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly admin: FastifyInstance
  readonly live: LiveConfig
  readonly operations: Operations
  readonly rollouts: RolloutController
  readonly link: PlaneLink
  /** The data plane in this process; undefined with workers (each runs its own). */
  readonly plane: DataPlane | undefined
  readonly logger: Logger
  /** This process's metrics (with workers, the primary's own; GET /metrics adds the workers'). */
  readonly registry: Registry
  /** Membership, leadership and counters of the fleet (a single instance is a fleet of one). */
  readonly fleet: Fleet
  /** Graceful stop (SIGTERM): drain delay, then finish requests in flight. */
  shutdown (): Promise<void>
  /** Immediate stop: no drain delay; requests in flight still finish. */
  close (): Promise<void>
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

/**
 * Where rollouts are kept: next to the routing. A fleet's store for
 * `serve --store`; else `<state dir>/<config file>.rollouts.json`, or memory
 * for another kind of source without a state directory.
 */
function rolloutStoreFor (source: ConfigSource, spec: string, configPath: string, stateDir: string | undefined, logger: Logger): RolloutStore {
  const side = fleetSide(source)
  if (side !== undefined) return new FleetRolloutStore(side.store.rollouts, (name, err) => logger.warn({ rollout: name, err }, 'a stored rollout is unreadable; left out until it is fixed or deleted'))
  return /^[a-z][a-z0-9]*:\/\//.test(spec) && stateDir === undefined ? new MemoryRolloutStore() : new FileRolloutStore(rolloutFileFor(configPath, stateDir))
}

/** A data plane and its metrics: built the same way in a single process and in each worker. */
function createDataSide (table: RoutingTable, logger: Logger, entropy?: Entropy): { plane: DataPlane, metrics: Metrics } {
  const metrics = createMetrics(new Registry())
  const plane = createDataPlane({ logger, settings: table.server, listener: metrics.requests, entropy })
  metrics.follow(plane.store, plane.upstreams)
  return { plane, metrics }
}

function startWorker (): void {
  serveIpcLink(table => {
    const logger = loggerFor(table.config.log).child({ process: 'worker', worker: cluster.worker?.id })
    const { plane, metrics } = createDataSide(table, logger)
    return { plane, metrics: async () => await metrics.registry.getMetricsAsJSON() }
  })
}

export async function createSwitchyard (opts: WorkerRole): Promise<void>
export async function createSwitchyard (opts: StartOptions): Promise<Switchyard>
export async function createSwitchyard (opts: StartOptions | WorkerRole): Promise<Switchyard | void> {
  if ('role' in opts) {
    startWorker()
    return
  }
  const configPath = resolvePath(opts.configPath)
  const stateDir = opts.stateDir ?? process.env.SWITCHYARD_STATE_DIR
  // Parsed first: `--store FILE` is a mistake (a store URL names etcd or Kubernetes), not a file source.
  if (typeof opts.store === 'string') parseStoreUrl(opts.store)
  const source = opts.store === undefined
    ? await openSource(configPath, { stateDir })
    : typeof opts.store === 'string'
      ? await openSource(opts.store, { stateDir, localConfig: configPath })
      : fleetSource(opts.store, { stateDir, localConfig: configPath })
  // A store that cannot serve a config must not keep the process alive with its connections.
  const built = await LiveConfig.load(source).catch(async (err: unknown) => {
    await fleetSide(source)?.store.close()
    throw err
  })
  const config = built.table.config
  const workers = opts.workers ?? 1
  const rootLogger = opts.logger ?? loggerFor(config.log)
  const logger = workers > 1 ? rootLogger.child({ process: 'primary' }) : rootLogger

  let plane: DataPlane | undefined
  let metrics: Metrics
  let link: PlaneLink
  if (workers > 1) {
    metrics = createMetrics(new Registry())
    link = new IpcLink({ workers, logger, exec: opts.workerExec })
  } else {
    ({ plane, metrics } = createDataSide(built.table, logger, opts.entropy))
    link = new InProcessLink(plane)
  }

  const live = new LiveConfig(source, link, logger)
  live.on('reload', (outcome, origin) => metrics.reloaded(outcome, origin))
  await live.start(built)
  const operations = new Operations(live)
  const adminToken = opts.adminToken ?? tokenFromEnv()
  const fleet = startFleet({ source, live, logger, registry: metrics.registry, identity: opts.identity, adminToken })

  // With workers, a scrape adds up every process's registry: counters sum, per-config gauges are taken once.
  const metricsSource: MetricsSource = workers > 1
    ? async () => AggregatorRegistry.aggregate([await metrics.registry.getMetricsAsJSON(), ...(await link.metrics()).map(p => p.metrics)])
    : async () => metrics.registry

  const rollouts = new RolloutController({
    live,
    operations,
    logger,
    store: opts.rollouts?.store ?? rolloutStoreFor(source, opts.configPath, configPath, stateDir, logger),
    counters: opts.rollouts?.counters ?? (fleet.status === undefined
      ? (workers > 1 ? workersReader(async () => await link.metrics()) : metricsReader(async () => await metrics.registry.getMetricsAsJSON()))
      : fleetCountersReader(fleet.counters)),
    // The fleet's leader moves the rollouts (a single instance leads itself); any replica's commands write them.
    leadership: opts.rollouts?.leadership ?? { isLeader: () => fleet.leadership.isLeader },
    now: opts.rollouts?.now,
    observer: { judged: (state, verdict) => { rolloutMetrics.judged(state.route, verdict.outcome) } }
  })
  const rolloutMetrics = createRolloutMetrics(metrics.registry, () => rollouts.known.map(r => ({ route: r.route, canary: r.canary, phase: r.phase, step: r.step.index + 1, weight: r.weight })))
  // For the metrics before the first look; a store out of reach at start (serving the local copy) must not stop the start.
  await rollouts.load().catch((err: unknown) => { logger.warn({ err }, 'cannot read the rollouts yet; the looks will') })

  const demoPages = opts.demo === true ? await startDemoBackends(built.table, logger) : []
  const adminAddr = { ...DEFAULT_ADMIN, ...config.admin }
  const auth = { token: adminToken, loopback: isLoopback(adminAddr.host) }
  const admin = buildAdminApp({
    logger,
    api: { live, operations, rollouts, plane: link, metrics: metricsSource, auth, fleet: fleet.status },
    // Ready once the data planes serve and the config is watched: Kubernetes sends traffic (and
    // operators their changes) on readiness, and a change before the watcher runs would be missed.
    readiness: {
      ready: () => (live.watching || opts.watch === false) && link.readiness().ready,
      reason: () => live.watching || opts.watch === false ? link.readiness().reason : 'starting'
    }
  })
  registerMetricsRoute(admin, metricsSource)
  // The console's charts sample the request cells: this process's, or with --workers the workers' totals
  // (read per worker, not as /metrics sums them: a restarted worker must not take the others' history with it).
  registerConsole(admin, { auth, cells: workers > 1 ? new AggregatedCells(async () => await link.metrics()) : metrics.requests })

  let proxyUrl: string
  let unlead = (): void => {}
  try {
    proxyUrl = await link.start()
    if (opts.watch !== false) await live.startWatching()
    await admin.listen({ host: adminAddr.host, port: adminAddr.port })
    const tickMs = opts.rollouts?.tickMs ?? DEFAULT_TICK_MS
    if (tickMs !== false) {
      rollouts.run(tickMs)
      // A new leader looks at once: a dead leader's rollouts wait one lease, not one lease and a tick.
      unlead = fleet.leadership.onLeading(() => { void rollouts.tick().catch((err: unknown) => logger.error({ err }, 'rollout look failed; trying again at the next')) })
    }
  } catch (err) {
    // A port in use, say: undo what started so that the caller can exit.
    await link.stop(false)
    await live.stopWatching()
    await fleet.close()
    await admin.close().catch(() => {})
    await Promise.all(demoPages.map(async p => await p.close()))
    throw err
  }

  const adminUrl = urlOf(admin.server)
  fleet.join(adminUrl)
  logger.info({
    proxy: proxyUrl,
    admin: adminUrl,
    config: configPath,
    ...(opts.store !== undefined ? { store: source.location, identity: fleet.identity } : {}),
    ...(workers > 1 ? { workers } : {}),
    revision: live.current.revision,
    routes: built.table.routes.map(r => r.name),
    backends: Object.fromEntries(built.table.backends.map(b => [b.name, { version: b.version, targets: b.targets }]))
  }, 'switchyard started')
  warnAccessLogPlacement(logger, configPath, built.table.accessLog)

  let closing: Promise<void> | undefined
  const stop = (drain: boolean): Promise<void> => {
    closing ??= (async () => {
      unlead()
      await rollouts.stop()
      await link.stop(drain)
      await live.stopWatching()
      await fleet.close()
      await admin.close()
      await Promise.all(demoPages.map(async p => await p.close()))
    })()
    return closing
  }
  return {
    proxyUrl,
    adminUrl,
    admin,
    live,
    operations,
    rollouts,
    link,
    plane,
    logger,
    registry: metrics.registry,
    fleet,
    shutdown: async () => await stop(true),
    close: async () => await stop(false)
  }
}
