/**
 * `switchyard serve --workers N`: one primary process and N workers
 * (node:cluster), for more than one core per switchyard.
 *
 * - The primary owns the configuration: it reads and watches the file,
 *   keeps the revision history and serves the admin listener (admin API,
 *   /healthz, /readyz, /metrics). It proxies nothing.
 * - Each worker runs a data plane on the shared proxy port. Every config the
 *   primary applies (file change, SIGHUP, admin API) is sent to every
 *   worker, which compiles and swaps it in: one source of truth, the same
 *   revision everywhere.
 * - /metrics asks each worker for its registry and aggregates with
 *   prom-client's AggregatorRegistry: counters add up, per-config gauges
 *   are taken once.
 * - SIGTERM drains every worker (each one's readyz-driven drain delay and
 *   request timeout), then the primary exits 0.
 *
 * In Kubernetes, one worker per pod and more pods is simpler and usually
 * better (the scheduler spreads pods; probes see each process); --workers
 * is for a machine or VM where one process must use several cores.
 */
import cluster, { type Worker } from 'node:cluster'
import { dirname, resolve as resolvePath } from 'node:path'
import type { Logger } from 'pino'
import { AggregatorRegistry, Registry } from 'prom-client'
import { isLoopback, tokenFromEnv } from '../admin/auth.js'
import { buildAdminApp } from '../admin/server.js'
import { buildFromFile, buildFromText } from '../routing/build.js'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from '../config/defaults.js'
import { ConfigError } from '../errors.js'
import { createLogger } from '../observability/logger.js'
import { createMetrics } from '../observability/metrics.js'
import type { ConfigOrigin } from '../proxy/config-store.js'
import { ConfigStore } from '../proxy/config-store.js'
import { createDataPlane, sleep, type DataPlane } from '../dataplane/plane.js'
import { DEFAULT_HISTORY_LIMIT, RevisionHistory, historyFileFor } from '../control/history.js'
import { LiveConfig } from '../control/live-config.js'
import { Operations } from '../control/operations.js'
import { UpstreamRegistry } from '../proxy/upstreams.js'
import { startDemoBackends } from './switchyard.js'

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number]

type ToWorker =
  | { readonly t: 'config', readonly text: string, readonly revision: number, readonly origin: ConfigOrigin }
  | { readonly t: 'metrics', readonly id: number }
  | { readonly t: 'stop', readonly drain: boolean }

type ToPrimary =
  | { readonly t: 'ready' }
  | { readonly t: 'listening', readonly address: string }
  | { readonly t: 'metrics', readonly id: number, readonly json: MetricJson[] }

export interface ClusterOptions {
  readonly configPath: string
  readonly workers: number
  readonly stateDir?: string
  /** Start the demo testpage backends (in the primary). */
  readonly demo?: boolean
}

export interface ClusterPrimary {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly logger: Logger
  reload (): void
  /** Drains every worker (SIGTERM) or stops them at once, then closes the admin listener. */
  stop (drain: boolean): Promise<void>
}

function send (worker: Worker, msg: ToWorker): void {
  if (worker.isConnected()) worker.send(msg)
}

export async function startPrimary (opts: ClusterOptions): Promise<ClusterPrimary> {
  const configPath = resolvePath(opts.configPath)
  const built = await buildFromFile(configPath)
  if (!built.ok) throw new ConfigError(built.problems, configPath)
  const config = built.table.config
  const logger = createLogger(config.log?.level ?? 'info').child({ process: 'primary' })

  // The primary's own store only records what is running; it opens no connection.
  const store = new ConfigStore(new UpstreamRegistry())
  const stateDir = opts.stateDir ?? process.env.SWITCHYARD_STATE_DIR ?? dirname(configPath)
  const history = new RevisionHistory(historyFileFor(configPath, stateDir), config.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT, logger)
  const live = new LiveConfig(configPath, store, history, logger)
  const metrics = createMetrics(new Registry())
  metrics.follow(store, live)
  await live.start(built)
  const demoPages = opts.demo === true ? await startDemoBackends(built.table, logger) : []

  const workers = new Set<Worker>()
  const listening = new Set<Worker>()
  let proxyAddress = ''
  let stopping = false
  const metricReplies = new Map<number, (json: MetricJson[]) => void>()
  let nextMetricsId = 1

  const configMessage = (): ToWorker => {
    const active = store.current
    return { t: 'config', text: active.text, revision: active.revision, origin: active.origin }
  }
  store.on('swap', () => { for (const w of workers) send(w, configMessage()) })

  const fork = (): Worker => {
    const worker = cluster.fork()
    workers.add(worker)
    worker.on('message', (msg: ToPrimary) => {
      // 'ready', not 'online': a message sent before the worker listens for messages would be lost.
      if (msg.t === 'ready') {
        send(worker, configMessage())
      } else if (msg.t === 'listening') {
        listening.add(worker)
        proxyAddress = msg.address
      } else if (msg.t === 'metrics') {
        metricReplies.get(msg.id)?.(msg.json)
      }
    })
    worker.on('exit', (code, signal) => {
      workers.delete(worker)
      listening.delete(worker)
      if (stopping) return
      logger.error({ worker: worker.id, code, signal }, 'worker died; starting another')
      setTimeout(fork, 500).unref()
    })
    return worker
  }
  for (let i = 0; i < opts.workers; i++) fork()

  // Every worker must be up before the primary calls itself started.
  const deadline = Date.now() + 30_000
  while (listening.size < opts.workers) {
    if (Date.now() > deadline) throw new Error(`only ${listening.size} of ${opts.workers} workers started within 30 s`)
    await sleep(20)
  }

  /** Every process's metrics, aggregated: the workers' by IPC, the primary's own. */
  const aggregated = async (): Promise<Registry> => {
    const asks = [...listening].map(w => new Promise<MetricJson[]>(resolve => {
      const id = nextMetricsId++
      const timer = setTimeout(() => { metricReplies.delete(id); resolve([]) }, 2000)
      metricReplies.set(id, json => { clearTimeout(timer); metricReplies.delete(id); resolve(json) })
      send(w, { t: 'metrics', id })
    }))
    const all = [await metrics.registry.getMetricsAsJSON(), ...await Promise.all(asks)]
    return AggregatorRegistry.aggregate(all)
  }

  const adminAddr = { ...DEFAULT_ADMIN, ...config.admin }
  const admin = buildAdminApp({
    logger,
    api: { live, operations: new Operations(live), auth: { token: tokenFromEnv(), loopback: isLoopback(adminAddr.host) } },
    readiness: {
      ready: () => !stopping && listening.size === opts.workers,
      reason: () => stopping ? 'draining' : `${listening.size} of ${opts.workers} workers up`
    }
  })
  admin.get('/metrics', async (_req, reply) => {
    const registry = await aggregated()
    await reply.header('cache-control', 'no-store').type(registry.contentType).send(await registry.metrics())
  })
  await admin.listen({ host: adminAddr.host, port: adminAddr.port })
  await live.startWatching()
  const a = admin.server.address()
  const adminUrl = typeof a === 'object' && a !== null ? `http://${a.address === '0.0.0.0' ? '127.0.0.1' : a.address}:${a.port}` : ''
  const proxyUrl = `http://${proxyAddress}`
  logger.info({ proxy: proxyUrl, admin: adminUrl, config: configPath, workers: opts.workers, revision: store.current.revision }, 'switchyard started')

  let closing: Promise<void> | undefined
  return {
    proxyUrl,
    adminUrl,
    logger,
    reload: () => { live.reload('sighup').catch(() => {}) },
    stop (drain) {
      closing ??= (async () => {
        stopping = true
        const exited = [...workers].map(w => new Promise<void>(resolve => w.once('exit', () => resolve())))
        for (const w of workers) send(w, { t: 'stop', drain })
        await Promise.all(exited)
        await live.stopWatching()
        await admin.close()
        await Promise.all(demoPages.map(async p => await p.close()))
      })()
      return closing
    }
  }
}

/** A worker: a data plane fed by the primary's configs. Resolves once it is listening. */
export async function startWorker (): Promise<void> {
  let plane: DataPlane | undefined
  let registry: Registry | undefined
  let logger: Logger | undefined

  const onConfig = async (msg: Extract<ToWorker, { t: 'config' }>): Promise<void> => {
    const built = buildFromText(msg.text)
    if (!built.ok) {
      // The primary validated it; only a version mismatch could get here.
      logger?.error({ problems: built.problems }, 'worker cannot compile the primary\'s config; keeping the previous one')
      return
    }
    if (plane !== undefined) {
      if (plane.store.current.table.sha256 !== built.table.sha256) plane.store.apply(built.table, { origin: msg.origin, revision: msg.revision, text: msg.text })
      return
    }
    const config = built.table.config
    logger = createLogger(config.log?.level ?? 'info').child({ process: 'worker', worker: cluster.worker?.id })
    const metrics = createMetrics(new Registry())
    registry = metrics.registry
    plane = createDataPlane({ logger, settings: built.table.server, listener: metrics.requests })
    metrics.follow(plane.store, undefined, plane.upstreams)
    plane.store.apply(built.table, { origin: msg.origin, revision: msg.revision, text: msg.text })
    const listen = { ...DEFAULT_LISTEN, ...config.listen }
    await plane.listen(listen.host, listen.port)
    const addr = plane.proxy.address()
    const address = typeof addr === 'object' && addr !== null ? `${addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address}:${addr.port}` : ''
    process.send?.({ t: 'listening', address } satisfies ToPrimary)
  }

  const stop = (drain: boolean): void => {
    const p = plane
    const done = p === undefined ? Promise.resolve() : p.stop(drain ? p.store.current.table.server.drainDelayMs : 0)
    done.then(() => process.exit(0), () => process.exit(1))
  }

  process.on('message', (msg: ToWorker) => {
    if (msg.t === 'config') {
      onConfig(msg).catch((err: unknown) => {
        process.stderr.write(`switchyard worker: ${(err as Error).message}\n`)
        process.exit(1)
      })
    } else if (msg.t === 'metrics') {
      const r = registry
      if (r === undefined) process.send?.({ t: 'metrics', id: msg.id, json: [] } satisfies ToPrimary)
      else r.getMetricsAsJSON().then(json => process.send?.({ t: 'metrics', id: msg.id, json } satisfies ToPrimary), () => {})
    } else if (msg.t === 'stop') {
      stop(msg.drain)
    }
  })
  // The primary decides when to stop: signals sent to the whole process group are left to it.
  process.on('SIGTERM', () => {})
  process.on('SIGINT', () => {})
  process.on('SIGHUP', () => {})
  process.on('disconnect', () => stop(false))
  process.send?.({ t: 'ready' } satisfies ToPrimary)
}
