/**
 * The plane link over IPC, for `serve --workers N`: the primary process
 * keeps the control plane and forks N node:cluster workers, each running a
 * data plane on the shared proxy port.
 *
 * - A revision crosses as its source text; each worker compiles it again
 *   (tables hold closures and cannot be serialised) and acknowledges it, so
 *   `apply` resolves once every worker serves it.
 * - A worker that starts later (a replacement after a crash) gets the
 *   latest revision as soon as it says it is ready.
 * - Questions (targets, metrics) are asked of every worker, with a
 *   deadline: a worker that does not answer in time is left out.
 * - The primary decides when workers stop: they ignore the signals sent to
 *   the whole process group and drain when told.
 */
import cluster, { type Worker } from 'node:cluster'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { listenAddress, type DataPlane, type HealthEvent, type TargetState } from '../dataplane/plane.js'
import { buildFromText } from '../routing/build.js'
import type { RoutingTable } from '../routing/types.js'
import { mergeTargets, type ConfigUpdate, type MetricsJson, type PlaneLink, type PlaneLinkEvents, type PlaneMetrics, type Readiness } from './link.js'

type Question = 'targets' | 'metrics'

type ToWorker =
  | { readonly t: 'config', readonly revision: number, readonly text: string }
  | { readonly t: 'ask', readonly id: number, readonly what: Question }
  | { readonly t: 'stop', readonly drain: boolean }

type ToPrimary =
  | { readonly t: 'ready' }
  | { readonly t: 'listening', readonly url: string }
  | { readonly t: 'applied', readonly revision: number }
  | { readonly t: 'failed', readonly message: string }
  | { readonly t: 'health', readonly event: HealthEvent }
  | { readonly t: 'answer', readonly id: number, readonly value: unknown }

const ASK_TIMEOUT_MS = 2000
/** A worker that has not acknowledged a revision by then is stuck or dying: the change answers anyway (and says so in the log). */
const APPLY_TIMEOUT_MS = 10_000
const START_TIMEOUT_MS = 30_000
const RESTART_DELAY_MS = 500

export interface IpcLinkOptions {
  readonly workers: number
  readonly logger: Logger
  /** The script each worker runs; default this process's own (the CLI, which runs a worker when cluster.isWorker). */
  readonly exec?: string
}

function send (worker: Worker, msg: ToWorker): void {
  if (worker.isConnected()) worker.send(msg)
}

export class IpcLink extends EventEmitter<PlaneLinkEvents> implements PlaneLink {
  readonly #opts: IpcLinkOptions
  readonly #workers = new Set<Worker>()
  readonly #listening = new Set<Worker>()
  /** The revision each worker last acknowledged. */
  readonly #applied = new Map<Worker, number>()
  readonly #waiters = new Set<() => void>()
  readonly #answers = new Map<number, (value: unknown) => void>()
  #nextId = 1
  #latest: ConfigUpdate | undefined
  #started = false
  #stopping: Promise<void> | undefined
  /** Set while start() waits: a worker that fails or dies before listening fails the start. */
  #startFailed: ((err: Error) => void) | undefined

  constructor (opts: IpcLinkOptions) {
    super()
    this.#opts = opts
  }

  async apply (update: ConfigUpdate): Promise<void> {
    this.#latest = update
    for (const w of this.#workers) send(w, { t: 'config', revision: update.revision, text: update.text })
    const behind = (): Worker[] => [...this.#listening].filter(w => (this.#applied.get(w) ?? 0) < update.revision)
    const done = this.#until(() => behind().length === 0)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), APPLY_TIMEOUT_MS) })
    const applied = await Promise.race([done.then(() => true), late])
    clearTimeout(timer)
    if (!applied) this.#opts.logger.warn({ revision: update.revision, workers: behind().map(w => w.id) }, 'workers have not confirmed the new revision yet')
  }

  async start (): Promise<string> {
    let url = ''
    const failed = new Promise<never>((_resolve, reject) => { this.#startFailed = reject })
    const up = new Promise<void>(resolve => {
      const onListening = (u: string): void => {
        url = u
        if (this.#listening.size === this.#opts.workers) { this.off('listening', onListening); resolve() }
      }
      this.on('listening', onListening)
    })
    for (let i = 0; i < this.#opts.workers; i++) this.#fork()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${this.#listening.size} of ${this.#opts.workers} workers started within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS)
    })
    try {
      await Promise.race([up, failed, late])
    } catch (err) {
      await this.stop(false)
      throw err
    } finally {
      clearTimeout(timer)
      this.#startFailed = undefined
    }
    this.#started = true
    return url
  }

  readiness (): Readiness {
    if (this.#stopping !== undefined) return { ready: false, reason: 'draining' }
    const n = this.#listening.size
    return n === this.#opts.workers ? { ready: true, reason: '' } : { ready: false, reason: `${n} of ${this.#opts.workers} workers up` }
  }

  async targets (): Promise<TargetState[]> {
    return mergeTargets((await this.#ask<TargetState[]>('targets')).map(a => a.value))
  }

  async metrics (): Promise<PlaneMetrics[]> {
    return (await this.#ask<MetricsJson>('metrics')).map(a => ({ worker: a.worker, metrics: a.value }))
  }

  stop (drain: boolean): Promise<void> {
    this.#stopping ??= (async () => {
      const exited = [...this.#workers].map(w => new Promise<void>(resolve => w.once('exit', () => resolve())))
      for (const w of this.#workers) send(w, { t: 'stop', drain })
      await Promise.all(exited)
    })()
    return this.#stopping
  }

  #fork (): void {
    if (this.#opts.exec !== undefined) cluster.setupPrimary({ exec: this.#opts.exec })
    const worker = cluster.fork()
    this.#workers.add(worker)
    worker.on('message', (msg: ToPrimary) => this.#onMessage(worker, msg))
    // A message to a worker that is exiting fails with EPIPE; its 'exit' follows and is handled there.
    worker.on('error', err => this.#opts.logger.debug({ err, worker: worker.id }, 'IPC to a worker failed'))
    worker.on('exit', (code, signal) => {
      this.#workers.delete(worker)
      this.#listening.delete(worker)
      this.#applied.delete(worker)
      this.#settle()
      if (this.#stopping !== undefined) return
      if (!this.#started) {
        this.#startFailed?.(new Error(`a worker exited before listening (code ${String(code)}, signal ${String(signal)})`))
        return
      }
      this.#opts.logger.error({ worker: worker.id, code, signal }, 'worker died; starting another')
      setTimeout(() => { if (this.#stopping === undefined) this.#fork() }, RESTART_DELAY_MS).unref()
    })
  }

  #onMessage (worker: Worker, msg: ToPrimary): void {
    switch (msg.t) {
      case 'ready': {
        // 'ready', not 'online': a message sent before the worker listens for messages would be lost.
        const latest = this.#latest
        if (latest !== undefined) send(worker, { t: 'config', revision: latest.revision, text: latest.text })
        break
      }
      case 'applied':
        this.#applied.set(worker, msg.revision)
        this.#settle()
        break
      case 'listening':
        this.#listening.add(worker)
        this.emit('listening', msg.url)
        this.#settle()
        break
      case 'failed':
        this.#startFailed?.(new Error(msg.message))
        break
      case 'health':
        this.emit('health', msg.event)
        break
      case 'answer':
        this.#answers.get(msg.id)?.(msg.value)
        break
    }
  }

  /** Resolves once `done()` holds, re-checked whenever a worker acknowledges, starts or exits. */
  #until (done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise(resolve => {
      const check = (): void => {
        if (!done()) return
        this.#waiters.delete(check)
        resolve()
      }
      this.#waiters.add(check)
    })
  }

  #settle (): void {
    for (const check of [...this.#waiters]) check()
  }

  /** Asks every listening worker; answers that miss the deadline are left out. */
  async #ask<T> (what: Question): Promise<Array<{ readonly worker: number, readonly value: T }>> {
    const asks = [...this.#listening].map(w => new Promise<{ worker: number, value: T } | undefined>(resolve => {
      const id = this.#nextId++
      const timer = setTimeout(() => { this.#answers.delete(id); resolve(undefined) }, ASK_TIMEOUT_MS)
      this.#answers.set(id, value => { clearTimeout(timer); this.#answers.delete(id); resolve({ worker: w.id, value: value as T }) })
      send(w, { t: 'ask', id, what })
    }))
    return (await Promise.all(asks)).filter(a => a !== undefined)
  }
}

/** What a worker process runs: a data plane, and how to read its metrics. */
export interface WorkerPlane {
  readonly plane: DataPlane
  metrics (): Promise<MetricsJson>
}

/**
 * The worker's end of the link: builds its data plane from the first
 * revision it receives (`create`), applies every later one, answers
 * questions, and stops when the primary says so.
 */
export function serveIpcLink (create: (table: RoutingTable) => WorkerPlane): void {
  const reply = (msg: ToPrimary, then?: () => void): void => { process.send?.(msg, undefined, {}, () => then?.()) }
  let worker: WorkerPlane | undefined

  const onConfig = async (msg: Extract<ToWorker, { t: 'config' }>): Promise<void> => {
    const built = buildFromText(msg.text)
    if (!built.ok) {
      // The primary validated it; only a version mismatch between processes could get here.
      throw new Error(`cannot compile revision ${msg.revision} from the primary: ${built.problems.map(p => p.message).join('; ')}`)
    }
    if (worker !== undefined) {
      worker.plane.apply(built.table, msg.revision)
      reply({ t: 'applied', revision: msg.revision })
      return
    }
    const w = worker = create(built.table)
    w.plane.on('health', event => reply({ t: 'health', event }))
    w.plane.apply(built.table, msg.revision)
    reply({ t: 'applied', revision: msg.revision })
    const { host, port } = listenAddress(built.table)
    reply({ t: 'listening', url: await w.plane.listen(host, port) })
  }

  const stop = (drain: boolean): void => {
    const plane = worker?.plane
    const done = plane === undefined ? Promise.resolve() : plane.stop(drain ? plane.settings.drainDelayMs : 0)
    done.then(() => process.exit(0), () => process.exit(1))
  }

  const answer = async (what: Question): Promise<unknown> => {
    if (worker === undefined) return []
    return what === 'targets' ? worker.plane.targets() : await worker.metrics()
  }

  process.on('message', (msg: ToWorker) => {
    if (msg.t === 'config') {
      // Exit once the primary has the reason (e.g. the proxy port is taken).
      onConfig(msg).catch((err: unknown) => reply({ t: 'failed', message: (err as Error).message }, () => process.exit(1)))
    } else if (msg.t === 'ask') {
      answer(msg.what).then(value => reply({ t: 'answer', id: msg.id, value }), () => {})
    } else if (msg.t === 'stop') {
      stop(msg.drain)
    }
  })
  // The primary decides when to stop: signals sent to the whole process group are left to it.
  process.on('SIGTERM', () => {})
  process.on('SIGINT', () => {})
  process.on('SIGHUP', () => {})
  process.on('disconnect', () => stop(false))
  reply({ t: 'ready' })
}
