/**
 * Live configuration: the one place that changes the running config.
 * - Reloads re-read the source when it changes (watcher, SIGHUP) and apply
 *   it only when it parses, validates and compiles; a bad config never
 *   goes live, the last good one keeps serving and the problems are kept
 *   (with locations) for logs and the status endpoint. A document whose
 *   hash equals the running one is skipped before it is parsed, so the
 *   watcher event caused by an edit's own write costs one read.
 * - Edits (operations service) write the source, compare-and-swap against
 *   the running revision, then apply.
 * - Every applied config is a new revision, sent to the data planes
 *   through the plane link and recorded in the source's history.
 * - A fleet source (etcd, the Kubernetes API) numbers the revisions itself,
 *   the same on every replica: a revision another replica wrote arrives
 *   through the watch and is served under the store's number, and the
 *   writer alone records it in the shared history.
 * All of these run one at a time (a promise queue), so an edit's
 * read-check-write cannot interleave with a reload or another edit.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { summariseChange } from '../config/summary.js'
import { ConfigError, formatProblem, SwitchyardError, type ConfigProblem } from '../errors.js'
import type { PlaneLink } from '../link/link.js'
import { buildFromText, type BuildResult } from '../routing/build.js'
import type { RoutingTable } from '../routing/types.js'
import { DEFAULT_HISTORY_LIMIT, RevisionHistory } from './history.js'
import type { ConfigSource, SourceRead, SourceWatch } from './source.js'

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
  /** Write even when the source no longer holds the running revision. */
  readonly force?: boolean
}

type Built = Extract<BuildResult, { ok: true }>

/** A built config as read from its source: with a fleet source, the revision the source gave it. */
export type Loaded = Built & { readonly revision?: number, readonly external?: boolean }

/**
 * Settings bound when switchyard starts (listeners, drain, log level): a
 * new revision that changes them is served, but they wait for a restart.
 */
const RESTART_ONLY = ['listen', 'admin', 'shutdown', 'log'] as const

export class LiveConfig extends EventEmitter<LiveConfigEvents> {
  lastError: ReloadFailure | undefined
  readonly history: RevisionHistory
  #queue: Promise<unknown> = Promise.resolve()
  #watcher: SourceWatch | undefined
  #current: ActiveConfig | undefined
  /** The config switchyard started with: what its listeners are bound to. */
  #started: RoutingTable | undefined

  /** `plane` is where applied revisions go: the data planes, or nowhere (the CLI's offline mode). */
  constructor (
    readonly source: ConfigSource,
    private readonly plane: Pick<PlaneLink, 'apply'> | undefined,
    private readonly logger: Logger
  ) {
    super()
    this.history = new RevisionHistory(source.history, logger)
  }

  /** Reads and builds the source's config; throws ConfigError with every problem. */
  static async load (source: ConfigSource): Promise<Loaded> {
    const read = await source.read()
    const built = read.ok ? buildFromText(read.text) : read
    if (!built.ok) throw new ConfigError(built.problems, source.location)
    return read.ok && read.revision !== undefined ? { ...built, revision: read.revision, external: read.external === true } : built
  }

  /** The revision in force. */
  get current (): ActiveConfig {
    const c = this.#current
    if (c === undefined) throw new Error('no configuration applied yet')
    return c
  }

  /** How a config given as an object is written to the source. */
  get format (): 'yaml' | 'json' {
    return this.source.format
  }

  get watching (): boolean {
    return this.#watcher !== undefined
  }

  /** Restart-only settings the running revision changed since the start (see RESTART_ONLY). */
  get pendingRestart (): string[] {
    const started = this.#started?.config
    const now = this.#current?.table.config
    if (started === undefined || now === undefined) return []
    return RESTART_ONLY.filter(field => JSON.stringify(started[field]) !== JSON.stringify(now[field]))
  }

  /**
   * Applies the config read at start (`LiveConfig.load`). A restart on the
   * same config resumes the last recorded revision; a config changed while
   * switchyard was down becomes a new revision.
   */
  async start (built: Loaded): Promise<ActiveConfig> {
    this.#started = built.table
    await this.history.load()
    this.history.setLimit(built.table.config.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT)
    if (built.revision !== undefined) return await this.#startAt(built, built.revision, built.external === true)
    const last = this.history.latest
    if (last !== undefined && last.sha256 === built.table.sha256) {
      return await this.#serve(built, last.source, last.revision)
    }
    const lastBuilt = last === undefined ? undefined : buildFromText(last.config)
    const before = lastBuilt?.ok === true ? lastBuilt.table.config : undefined
    const summary = last === undefined ? 'initial configuration' : `changed while stopped: ${summariseChange(before, built.table.config)}`
    return await this.#commit(built, 'start', summary)
  }

  /**
   * A fleet source: the revision is the source's. One its history already
   * holds is served as it is; a text edited outside switchyard is adopted as
   * the next revision (if another replica adopts it first, the winner's
   * revision is read and served).
   */
  async #startAt (built: Built, revision: number, external: boolean): Promise<ActiveConfig> {
    if (external) {
      const adopted = await this.#adopt(built.source.text, { ok: true, text: built.source.text, sha256: built.table.sha256, revision })
      if (adopted === undefined) {
        const again = await LiveConfig.load(this.source)
        return await this.#startAt(again, again.revision ?? revision, again.external === true)
      }
      return await this.#commit(built, 'start', 'edited in the store outside switchyard', adopted)
    }
    // The store's revision numbers its text: a revision already recorded is served as it is (its
    // sha256 may differ from this replica's, whose process settings are its own).
    const entry = this.history.get(revision)
    if (entry !== undefined) return await this.#serve(built, entry.source, revision)
    return await this.#commit(built, 'start', 'initial configuration', revision)
  }

  /** Writes an outside edit back as the next revision; undefined when another replica did first. */
  async #adopt (text: string, read: Extract<SourceRead, { ok: true }>): Promise<number | undefined> {
    try {
      const written = await this.source.write(text, { sha256: read.sha256, revision: read.revision ?? 0 })
      return written?.revision
    } catch (err) {
      if (err instanceof SwitchyardError && err.code === 'SY_ERR_ADMIN_PRECONDITION') return undefined
      throw err
    }
  }

  async startWatching (): Promise<void> {
    this.#watcher ??= await this.source.watch(() => { this.reload('file').catch(() => {}) })
  }

  async stopWatching (): Promise<void> {
    await this.#watcher?.close()
    this.#watcher = undefined
  }

  /** Runs `fn` alone: no reload or other edit interleaves with it. */
  exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => {})
    return run
  }

  /** Re-reads the source and applies it when it changed and is valid. Never throws. */
  reload (origin: ConfigOrigin): Promise<ReloadOutcome> {
    return this.exclusive(async () => {
      const read = await this.source.read()
      if (!read.ok) return this.#fail(origin, read.problems)
      if (read.sha256 === this.current.table.sha256 && (read.revision === undefined || read.revision === this.current.revision)) {
        // The source holds the running revision again: whatever failed before is no longer pending.
        this.lastError = undefined
        return this.#report({ result: 'unchanged', active: this.current }, origin)
      }
      const built = buildFromText(read.text)
      if (read.external === true && built.ok) {
        // Every replica tries; the loser serves the winner's revision when its watch brings it.
        const adopted = await this.#adopt(read.text, read).catch((err: unknown) => { this.logger.warn({ err }, 'cannot adopt the outside edit yet') })
        if (adopted === undefined) return this.#report({ result: 'unchanged', active: this.current }, origin)
        return await this.#apply(built, origin, 'edited in the store outside switchyard: ', adopted, true)
      }
      return await this.#apply(built, origin, '', read.revision)
    })
  }

  /**
   * Validates `text`; when valid and different, writes it to the source if
   * the source still holds the running revision (or `force`), and applies
   * it. Call inside `exclusive()`. Throws the source's coded error when it
   * cannot write (SY_ERR_ADMIN_FILE_CHANGED, SY_ERR_ADMIN_READONLY); nothing
   * is changed then.
   */
  async writeAndApply (text: string, origin: ConfigOrigin, opts: WriteOptions = {}): Promise<ReloadOutcome> {
    const built = buildFromText(text)
    // A rejected edit is the caller's answer, not a failed reload: nothing is reported.
    if (!built.ok) return { result: 'failure', problems: built.problems }
    if (built.table.sha256 === this.current.table.sha256) return { result: 'unchanged', active: this.current }
    const running = this.current
    const written = await this.source.write(text, opts.force === true ? undefined : { sha256: running.table.sha256, revision: running.revision })
    // A fleet source gives the text back as every replica reads it (its own process settings kept).
    const applied = written === undefined || written.text === text ? built : buildFromText(written.text)
    return await this.#apply(applied, origin, opts.prefix, written?.revision, true)
  }

  /**
   * `revision`: the fleet source's number for it (undefined: the next one).
   * `record`: whether this replica records it in the history; with a fleet
   * source only the replica that wrote it does, with its summary; the
   * others re-read the shared history when they answer from it.
   */
  async #apply (built: BuildResult, origin: ConfigOrigin, summaryPrefix = '', revision?: number, record = revision === undefined): Promise<ReloadOutcome> {
    if (!built.ok) return this.#fail(origin, built.problems)
    const previous = this.current
    if (previous.table.sha256 === built.table.sha256 && (revision === undefined || revision === previous.revision)) {
      return this.#report({ result: 'unchanged', active: previous }, origin)
    }
    const summary = summaryPrefix + summariseChange(previous.table.config, built.table.config)
    this.lastError = undefined
    const active = record ? await this.#commit(built, origin, summary, revision) : await this.#serve(built, origin, revision ?? previous.revision + 1)
    const restart = this.pendingRestart
    if (restart.length > 0) this.logger.warn({ fields: restart }, 'these settings take effect only after a restart')
    this.logger.info({ revision: active.revision, origin, summary, sha256: active.table.sha256.slice(0, 12) }, 'config reloaded')
    return this.#report({ result: 'success', active, summary }, origin)
  }

  /** Makes `built` the revision in force and sends it to the data planes. */
  async #serve (built: Built, origin: ConfigOrigin, revision: number): Promise<ActiveConfig> {
    const active: ActiveConfig = Object.freeze({ revision, table: built.table, text: built.source.text, origin, loadedAt: new Date() })
    this.#current = active
    await this.plane?.apply({ revision, table: built.table, text: built.source.text })
    return active
  }

  /** Serves the new revision, then records it (serving never waits on the history). */
  async #commit (built: Built, origin: ConfigOrigin, summary: string, fixed?: number): Promise<ActiveConfig> {
    const revision = fixed ?? Math.max(this.#current?.revision ?? 0, this.history.latest?.revision ?? 0) + 1
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
    const where = this.source.location
    this.logger.error({ origin, file: where, problems: problems.map(p => formatProblem(p, where)) }, 'config rejected; the previous config keeps serving')
    return this.#report({ result: 'failure', problems }, origin)
  }

  #report (outcome: ReloadOutcome, origin: ConfigOrigin): ReloadOutcome {
    this.emit('reload', outcome, origin)
    return outcome
  }
}
