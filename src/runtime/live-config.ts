/**
 * Live configuration: re-reads the config file when it changes (watcher,
 * SIGHUP), and applies it only when it parses, validates and compiles. A
 * bad file never goes live: the last good config keeps serving and the
 * problems are kept (with locations) for logs and the status endpoint.
 * Reloads are serialised, and a file whose content hash is unchanged is
 * skipped, so a burst of events costs one reload.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { buildFromFile, type BuildResult } from '../config/pipeline.js'
import { watchConfig, type ConfigWatcher } from '../config/watch.js'
import { formatProblem, type ConfigProblem } from '../errors.js'
import type { ConfigOrigin, ConfigStore, ActiveConfig } from './config-store.js'

export interface ReloadFailure {
  readonly at: Date
  readonly origin: ConfigOrigin
  readonly problems: readonly ConfigProblem[]
}

export type ReloadOutcome =
  | { readonly result: 'success', readonly active: ActiveConfig }
  | { readonly result: 'unchanged' }
  | { readonly result: 'failure', readonly problems: readonly ConfigProblem[] }

export interface LiveConfigEvents {
  reload: [outcome: ReloadOutcome, origin: ConfigOrigin]
}

export class LiveConfig extends EventEmitter<LiveConfigEvents> {
  lastError: ReloadFailure | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #watcher: ConfigWatcher | undefined

  constructor (
    readonly file: string,
    readonly store: ConfigStore,
    private readonly logger: Logger
  ) {
    super()
  }

  async startWatching (): Promise<void> {
    this.#watcher = await watchConfig(this.file, () => { this.reload('file').catch(() => {}) })
  }

  async stopWatching (): Promise<void> {
    await this.#watcher?.close()
    this.#watcher = undefined
  }

  /** Re-reads the file and applies it when it changed and is valid. Never throws. */
  reload (origin: ConfigOrigin): Promise<ReloadOutcome> {
    const run = this.#queue.then(async () => await this.#reloadNow(origin))
    this.#queue = run.catch(() => {})
    return run
  }

  /** Applies an already built config (used at start and by the admin API). */
  applyBuilt (built: BuildResult, origin: ConfigOrigin): ReloadOutcome {
    if (!built.ok) return this.#fail(origin, built.problems)
    const previous = this.store.loaded ? this.store.current : undefined
    if (previous !== undefined && previous.table.sha256 === built.table.sha256) {
      return this.#report({ result: 'unchanged' }, origin)
    }
    const active = this.store.apply(built.table, origin)
    this.lastError = undefined
    if (previous !== undefined) {
      const restart = restartOnlyChanges(previous, active)
      if (restart.length > 0) this.logger.warn({ fields: restart }, 'these settings take effect only after a restart')
    }
    if (origin !== 'start') this.logger.info({ revision: active.revision, origin, sha256: active.table.sha256.slice(0, 12), routes: active.table.routes.length, backends: active.table.backends.length }, 'config reloaded')
    return this.#report({ result: 'success', active }, origin)
  }

  async #reloadNow (origin: ConfigOrigin): Promise<ReloadOutcome> {
    return this.applyBuilt(await buildFromFile(this.file), origin)
  }

  #fail (origin: ConfigOrigin, problems: readonly ConfigProblem[]): ReloadOutcome {
    this.lastError = { at: new Date(), origin, problems }
    this.logger.error({ origin, file: this.file, problems: problems.map(p => formatProblem(p, this.file)) }, 'config rejected; the previous config keeps serving')
    return this.#report({ result: 'failure', problems }, origin)
  }

  #report (outcome: ReloadOutcome, origin: ConfigOrigin): ReloadOutcome {
    this.emit('reload', outcome, origin)
    return outcome
  }
}

/** Listener addresses are bound once; a reload that changes them must say so. */
function restartOnlyChanges (prev: ActiveConfig, next: ActiveConfig): string[] {
  const a = prev.table.config
  const b = next.table.config
  const out: string[] = []
  if (JSON.stringify(a.listen) !== JSON.stringify(b.listen)) out.push('listen')
  if (JSON.stringify(a.admin) !== JSON.stringify(b.admin)) out.push('admin')
  return out
}
