/**
 * Live configuration: the one place that changes the running config.
 * - Reloads re-read the file when it changes (watcher, SIGHUP) and apply it
 *   only when it parses, validates and compiles; a bad file never goes live,
 *   the last good config keeps serving and the problems are kept (with
 *   locations) for logs and the status endpoint.
 * - Edits (admin API, CLI) write the file atomically, then apply it.
 * - Every applied config is a new revision, recorded in the on-disk history.
 * All of these run one at a time (a promise queue), so an edit's
 * read-check-write cannot interleave with a reload or another edit. A file
 * whose content hash is unchanged is skipped, so the watcher event caused by
 * an edit's own write costs one read.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { buildFromFile, buildFromText, type BuildResult } from '../routing/build.js'
import { summariseChange } from '../config/summary.js'
import { watchConfig, type ConfigWatcher } from '../config/watch.js'
import { formatProblem, SwitchyardError, type ConfigProblem } from '../errors.js'
import { atomicWrite } from '../util/atomic-write.js'
import type { PlaneLink } from '../link/link.js'
import type { RoutingTable } from '../routing/types.js'
import { DEFAULT_HISTORY_LIMIT, type RevisionHistory } from './history.js'

/** Where a revision came from. */
export type ConfigOrigin = 'file' | 'api' | 'cli' | 'sighup' | 'start'

/** The revision in force: what the data planes serve. */
export interface ActiveConfig {
  /** Increases by one with every applied config, starting at 1. */
  readonly revision: number
  readonly table: RoutingTable
  /** The source text (YAML or JSON) this table was built from; edits start from it. */
  readonly text: string
  readonly origin: ConfigOrigin
  readonly loadedAt: Date
}

export interface ReloadFailure {
  readonly at: Date
  readonly origin: ConfigOrigin
  readonly problems: readonly ConfigProblem[]
}

export type ReloadOutcome =
  | { readonly result: 'success', readonly active: ActiveConfig, readonly summary: string }
  | { readonly result: 'unchanged', readonly active: ActiveConfig }
  | { readonly result: 'failure', readonly problems: readonly ConfigProblem[] }

export interface LiveConfigEvents {
  reload: [outcome: ReloadOutcome, origin: ConfigOrigin]
}

export interface WriteOptions {
  /** Put before the change's summary in the history, e.g. `rollback to revision 3: `. */
  readonly prefix?: string
  readonly force?: boolean
}

export class LiveConfig extends EventEmitter<LiveConfigEvents> {
  lastError: ReloadFailure | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #watcher: ConfigWatcher | undefined
  #current: ActiveConfig | undefined

  /** `plane` is where applied revisions go: the data planes, or nowhere (the CLI's offline mode). */
  constructor (
    readonly file: string,
    readonly history: RevisionHistory,
    private readonly plane: Pick<PlaneLink, 'apply'> | undefined,
    private readonly logger: Logger
  ) {
    super()
  }

  /**
   * Applies the config read at start. A restart on the same file resumes the
   * last recorded revision; a file changed while switchyard was down becomes
   * a new revision.
   */
  async start (built: Extract<BuildResult, { ok: true }>): Promise<ActiveConfig> {
    await this.history.load()
    this.history.setLimit(built.table.config.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT)
    const last = this.history.latest
    if (last !== undefined && last.sha256 === built.table.sha256) {
      return await this.#serve(built, last.source, last.revision)
    }
    const lastBuilt = last === undefined ? undefined : buildFromText(last.config)
    const before = lastBuilt?.ok === true ? lastBuilt.table.config : undefined
    const summary = last === undefined ? 'initial configuration' : `changed while stopped: ${summariseChange(before, built.table.config)}`
    return await this.#commit(built, 'start', summary)
  }

  async startWatching (): Promise<void> {
    this.#watcher = await watchConfig(this.file, () => { this.reload('file').catch(() => {}) })
  }

  async stopWatching (): Promise<void> {
    await this.#watcher?.close()
    this.#watcher = undefined
  }

  /** The revision in force. */
  get current (): ActiveConfig {
    const c = this.#current
    if (c === undefined) throw new Error('no configuration applied yet')
    return c
  }

  /** How a config given as an object is written to the file. */
  get format (): 'yaml' | 'json' {
    return /\.json$/i.test(this.file) ? 'json' : 'yaml'
  }

  /** Runs `fn` alone: no reload or other edit interleaves with it. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => {})
    return run
  }

  /** Re-reads the file and applies it when it changed and is valid. Never throws. */
  reload (origin: ConfigOrigin): Promise<ReloadOutcome> {
    return this.exclusive(async () => await this.#apply(await buildFromFile(this.file), origin))
  }

  /**
   * Validates `text`; when valid and different, writes it to the config file
   * atomically and applies it. Call inside `exclusive()` when the caller also
   * checks a precondition. Throws SY_ERR_ADMIN_READONLY when the file cannot
   * be written; nothing is changed then.
   */
  async writeAndApply (text: string, origin: ConfigOrigin, opts: WriteOptions = {}): Promise<ReloadOutcome> {
    const built = buildFromText(text)
    // A rejected edit is the caller's answer, not a failed reload: nothing is reported.
    if (!built.ok) return { result: 'failure', problems: built.problems }
    if (built.table.sha256 === this.current.table.sha256) return { result: 'unchanged', active: this.current }
    try {
      await atomicWrite(this.file, text)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
        throw new SwitchyardError('SY_ERR_ADMIN_READONLY', `the config file ${this.file} is read-only (${code}): ` +
          'on Kubernetes edit the ConfigMap instead (every replica reloads it), e.g. with `switchyard set-weight --file` on the manifest')
      }
      throw err
    }
    return await this.#apply(built, origin, opts.prefix)
  }

  async #apply (built: BuildResult, origin: ConfigOrigin, summaryPrefix = ''): Promise<ReloadOutcome> {
    if (!built.ok) return this.#fail(origin, built.problems)
    const previous = this.current
    if (previous.table.sha256 === built.table.sha256) return this.#report({ result: 'unchanged', active: previous }, origin)
    const summary = summaryPrefix + summariseChange(previous.table.config, built.table.config)
    this.lastError = undefined
    const active = await this.#commit(built, origin, summary)
    const restart = restartOnlyChanges(previous, active)
    if (restart.length > 0) this.logger.warn({ fields: restart }, 'these settings take effect only after a restart')
    this.logger.info({ revision: active.revision, origin, summary, sha256: active.table.sha256.slice(0, 12) }, 'config reloaded')
    return this.#report({ result: 'success', active, summary }, origin)
  }

  /** Makes `built` the revision in force and sends it to the data planes. */
  async #serve (built: Extract<BuildResult, { ok: true }>, origin: ConfigOrigin, revision: number): Promise<ActiveConfig> {
    const active: ActiveConfig = Object.freeze({ revision, table: built.table, text: built.source.text, origin, loadedAt: new Date() })
    this.#current = active
    await this.plane?.apply({ revision, table: built.table, text: built.source.text })
    return active
  }

  /** Serves the new revision, then records it (serving never waits on the disk). */
  async #commit (built: Extract<BuildResult, { ok: true }>, origin: ConfigOrigin, summary: string): Promise<ActiveConfig> {
    const revision = Math.max(this.#current?.revision ?? 0, this.history.latest?.revision ?? 0) + 1
    const active = await this.#serve(built, origin, revision)
    this.history.setLimit(built.table.config.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT)
    await this.history.record({
      revision,
      time: active.loadedAt.toISOString(),
      source: origin,
      summary,
      sha256: built.table.sha256,
      config: built.source.text
    })
    return active
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
