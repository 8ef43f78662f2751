/**
 * A fleet's routing store (src/fleet: etcd, the Kubernetes API) as a config
 * source; `etcd/` and `kubernetes/` next to this file open one each.
 *
 * - The store holds the routing; each replica's process settings (listen,
 *   admin, log…) come from its local file and are put back in front of what
 *   it reads (config/process-settings.ts), and taken out of what it writes.
 * - Revisions are the store's numbers, the same on every replica. A write is
 *   conditioned on the revision the replica serves (If-Match ↔ etcd mod
 *   revision / resourceVersion): a lost race is SY_ERR_ADMIN_PRECONDITION (412).
 * - An empty store is seeded from the local file with create-if-absent, so
 *   replicas starting together never fight.
 * - History lives in the store; every replica reads the same entries.
 * - Each applied revision is saved in the state directory: a replica that
 *   restarts while the store is out of reach starts from it (`startedFrom`).
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { processSettings, routingPart, withProcessSettings } from '../../config/process-settings.js'
import { SwitchyardError, type ConfigProblem } from '../../errors.js'
import { StoreError } from '../../fleet/store-error.js'
import type { RoutingStore, StoredConfig, SyncState } from '../../fleet/store.js'
import { buildFromText } from '../../routing/build.js'
import { atomicWrite } from '../../util/atomic-write.js'
import type { ConfigOrigin } from '../live-config.js'
import type { HistoryStore, RevisionEntry } from '../history.js'
import type { ConfigSource, SourceRead, SourceWatch, WriteExpectation, Written } from '../source.js'
import type { SourceOptions } from './open.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** What a replica saved of the last revision it applied (`<state dir>/fleet-<store hash>.last-applied.json`). */
interface LocalCopy {
  readonly version: 1
  readonly store: string
  readonly revision: number
  /** The routing part, as the store held it. */
  readonly routing: string
  readonly savedAt: string
}

/** The fleet side of a config source: what createSwitchyard wires beyond reading and writing. */
export interface FleetSide {
  readonly store: RoutingStore
  /** Set when the store was out of reach at start and the replica serves its local copy. */
  readonly startedFrom: { readonly revision: number, readonly savedAt: string, readonly file: string } | undefined
  /** Saves the revision now served, for a restart while the store is down. Never throws (a failure is returned). */
  saveApplied (revision: number, text: string): Promise<Error | undefined>
  /** Calls `fn` on every change of the store's connection (the watch's view). */
  onSync (fn: (state: SyncState) => void): () => void
}

const unavailableProblem = (err: unknown, location: string): ConfigProblem => ({
  code: 'SY_ERR_STORE_UNAVAILABLE', path: '', message: `${location}: ${(err as Error).message}`
})

/** A coded domain error (the admin API answers 503) in place of the store's own. */
function asDomainError (err: unknown): unknown {
  return err instanceof StoreError ? new SwitchyardError(err.code, err.message) : err
}

export class FleetSource implements ConfigSource, FleetSide {
  readonly format = 'yaml'
  readonly location: string
  readonly history: HistoryStore
  startedFrom: FleetSide['startedFrom']
  readonly #localFile: string | undefined
  readonly #copyFile: string
  readonly #syncListeners = new Set<(s: SyncState) => void>()
  #local: Promise<string | undefined> | undefined
  /** While watching: the newest document the watch delivered (`null`: deleted). */
  #latest: StoredConfig | null | undefined

  constructor (readonly store: RoutingStore, opts: SourceOptions) {
    this.location = store.description
    this.#localFile = opts.localConfig === undefined ? undefined : resolve(opts.localConfig)
    const stateDir = opts.stateDir ?? (this.#localFile === undefined ? process.cwd() : dirname(this.#localFile))
    this.#copyFile = join(stateDir, `fleet-${sha256(store.description).slice(0, 12)}.last-applied.json`)
    this.history = this.#storeHistory(opts.readOnlyHistory === true)
  }

  /** The local file's text (process settings, and the seed of an empty store); read once. */
  #localText (): Promise<string | undefined> {
    const file = this.#localFile
    this.#local ??= file === undefined ? Promise.resolve(undefined) : readFile(file, 'utf8')
    return this.#local
  }

  async #withLocal (routing: string): Promise<string> {
    return withProcessSettings(routing, processSettings(await this.#localText()))
  }

  async #answer (doc: StoredConfig): Promise<SourceRead> {
    const text = await this.#withLocal(doc.text)
    return { ok: true, text, sha256: sha256(text), revision: doc.revision, external: doc.external }
  }

  async read (): Promise<SourceRead> {
    if (this.#latest === null) {
      return { ok: false, problems: [{ code: 'SY_ERR_CONFIG_READ', path: '', message: `the routing document was deleted from ${this.location}; the last good revision keeps serving until it is written again (switchyard apply --store)` }] }
    }
    if (this.#latest !== undefined) return await this.#answer(this.#latest)
    let local: string | undefined
    try {
      local = await this.#localText()
      const doc = await this.store.read() ?? await this.#seed(local)
      return doc === undefined ? { ok: false, problems: [this.#emptyProblem()] } : await this.#answer(doc)
    } catch (err) {
      if (err instanceof StoreError && err.code === 'SY_ERR_STORE_UNAVAILABLE') return await this.#fromLocalCopy(err)
      if (err instanceof StoreError) return { ok: false, problems: [{ code: err.code, path: '', message: err.message }] }
      const e = err as NodeJS.ErrnoException
      return { ok: false, problems: [{ code: 'SY_ERR_CONFIG_READ', path: '', message: `cannot read ${this.#localFile ?? ''}: ${e.code ?? e.message}` }] }
    }
  }

  #emptyProblem (): ConfigProblem {
    return { code: 'SY_ERR_CONFIG_READ', path: '', message: `${this.location} holds no routing yet: start a replica with --config FILE to seed it` }
  }

  /** Writes the local file's routing as revision 1 if the store is still empty, then reads what won. */
  async #seed (local: string | undefined): Promise<StoredConfig | undefined> {
    // Never seed a fleet with a config that cannot serve: the start fails on it instead.
    if (local === undefined || !buildFromText(local).ok) return undefined
    await this.store.createIfAbsent(routingPart(local))
    return await this.store.read()
  }

  async #fromLocalCopy (err: StoreError): Promise<SourceRead> {
    let copy: LocalCopy
    try {
      copy = JSON.parse(await readFile(this.#copyFile, 'utf8')) as LocalCopy
    } catch {
      return { ok: false, problems: [unavailableProblem(err, this.location), { code: 'SY_ERR_STORE_UNAVAILABLE', path: '', message: `and no revision saved locally (${this.#copyFile}) to start from` }] }
    }
    this.startedFrom = { revision: copy.revision, savedAt: copy.savedAt, file: this.#copyFile }
    return await this.#answer({ text: copy.routing, revision: copy.revision, sha256: sha256(copy.routing), external: false })
  }

  async saveApplied (revision: number, text: string): Promise<Error | undefined> {
    const copy: LocalCopy = { version: 1, store: this.location, revision, routing: routingPart(text), savedAt: new Date().toISOString() }
    try {
      await atomicWrite(this.#copyFile, JSON.stringify(copy) + '\n')
      return undefined
    } catch (err) {
      return err as Error
    }
  }

  onSync (fn: (state: SyncState) => void): () => void {
    this.#syncListeners.add(fn)
    return () => this.#syncListeners.delete(fn)
  }

  async watch (onChange: () => void): Promise<SourceWatch> {
    const w = this.store.watch({
      change: doc => { this.#latest = doc ?? null; onChange() },
      state: s => { for (const fn of this.#syncListeners) fn(s) }
    })
    return {
      close: async () => {
        await w.stop()
        this.#latest = undefined
      }
    }
  }

  async write (text: string, expected: WriteExpectation | undefined): Promise<Written> {
    const routing = routingPart(text)
    try {
      const against = expected?.revision ?? (await this.store.read())?.revision
      const outcome = against === undefined ? await this.store.createIfAbsent(routing) : await this.store.writeIfRevision(routing, against)
      if (!outcome.ok) {
        throw new SwitchyardError('SY_ERR_ADMIN_PRECONDITION',
          `${this.location} is at revision ${outcome.current ?? 'none'}, not ${against ?? 'empty'}: another replica changed it first; read it again`,
          outcome.current === undefined ? undefined : { revision: outcome.current })
      }
      return { revision: outcome.revision, text: await this.#withLocal(routing) }
    } catch (err) {
      throw asDomainError(err)
    }
  }

  #storeHistory (readOnly: boolean): HistoryStore {
    return {
      location: `${this.location} (history)`,
      load: async () => {
        const settings = processSettings(await this.#localText())
        return (await this.store.history()).map(e => ({ ...e, source: e.source as ConfigOrigin, config: withProcessSettings(e.config, settings) }))
      },
      // Unused: `append` records a fleet's history one entry at a time.
      save: async () => {},
      append: async (entry: RevisionEntry, limit: number) => {
        if (!readOnly) await this.store.recordHistory({ ...entry, config: routingPart(entry.config) }, limit)
      }
    }
  }
}

/** `createSource` of sources/etcd and sources/kubernetes. */
export function fleetSource (store: RoutingStore, opts: SourceOptions): FleetSource {
  return new FleetSource(store, opts)
}

/** The fleet side of `source`, when it is a fleet's store. */
export function fleetSide (source: ConfigSource): FleetSide | undefined {
  return source instanceof FleetSource ? source : undefined
}
