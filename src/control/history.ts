/**
 * Revision history: the last `revisionHistoryLimit` revisions, each with
 * the whole config text it refers to (small, and it makes undo exact),
 * like a Deployment's ReplicaSets. Kept in memory and saved by the config
 * source's store (a JSON file next to a file source), so that a restart
 * resumes the same revision numbers and can still undo to earlier ones.
 */
import type { Logger } from 'pino'
import type { ConfigOrigin } from './live-config.js'

export interface RevisionEntry {
  readonly revision: number
  /** ISO 8601. */
  readonly time: string
  readonly source: ConfigOrigin
  /** What changed against the revision before, e.g. `testpage: canary 10→25`. */
  readonly summary: string
  readonly sha256: string
  readonly config: string
}

export const DEFAULT_HISTORY_LIMIT = 10

/** Where a source keeps its history. */
export interface HistoryStore {
  /** For status and logs, e.g. the history file's path. */
  readonly location: string
  /** The saved entries; [] when there are none yet. Throws when they cannot be read. */
  load (): Promise<readonly RevisionEntry[]>
  /** Replaces the saved entries. Throws when they cannot be saved. */
  save (entries: readonly RevisionEntry[]): Promise<void>
  /**
   * A store shared by a fleet: adds one entry (once per revision, whoever
   * records it) and trims to `limit`, instead of replacing the whole list
   * (which would overwrite other replicas' entries); load() is re-read before
   * every answer, so every replica gives the same one.
   */
  append? (entry: RevisionEntry, limit: number): Promise<void>
}

/** A store that keeps nothing: the history lives as long as the process. */
export const memoryHistory: HistoryStore = {
  location: '(in memory)',
  load: async () => [],
  save: async () => {}
}

export class RevisionHistory {
  #entries: RevisionEntry[] = []
  #saving = true
  #limit = DEFAULT_HISTORY_LIMIT

  constructor (private readonly store: HistoryStore, private readonly logger: Logger) {}

  get location (): string {
    return this.store.location
  }

  /** Reads the saved entries; unreadable ones start an empty history (and say why). */
  async load (): Promise<void> {
    try {
      const entries = await this.store.load()
      this.#entries = entries.filter(e => Number.isInteger(e.revision) && typeof e.config === 'string').sort((a, b) => a.revision - b.revision)
    } catch (err) {
      this.logger.warn({ err, history: this.store.location }, 'revision history unreadable; starting a new one')
    }
  }

  /** With a fleet's shared store: re-reads it (other replicas add entries). Never throws: an unreachable store keeps what is known. */
  async refresh (): Promise<void> {
    if (this.store.append === undefined) return
    try {
      const entries = await this.store.load()
      this.#entries = [...entries].sort((a, b) => a.revision - b.revision)
    } catch (err) {
      this.logger.debug({ err, history: this.store.location }, 'revision history unreachable; answering from the copy in memory')
    }
  }

  get latest (): RevisionEntry | undefined {
    return this.#entries.at(-1)
  }

  list (): readonly RevisionEntry[] {
    return this.#entries
  }

  get (revision: number): RevisionEntry | undefined {
    return this.#entries.find(e => e.revision === revision)
  }

  setLimit (limit: number): void {
    this.#limit = limit
  }

  /** Adds an entry, trims to the limit, saves. A failed save is logged once, never thrown: the history is kept in memory. */
  async record (entry: RevisionEntry): Promise<void> {
    this.#entries = [...this.#entries.filter(e => e.revision !== entry.revision), entry].sort((a, b) => a.revision - b.revision)
    if (this.#entries.length > this.#limit) this.#entries = this.#entries.slice(-this.#limit)
    try {
      if (this.store.append !== undefined) await this.store.append(entry, this.#limit)
      else await this.store.save(this.#entries)
      this.#saving = true
    } catch (err) {
      if (this.#saving) {
        this.logger.warn({ err, history: this.store.location }, 'cannot write the revision history (set SWITCHYARD_STATE_DIR to a writable directory); keeping it in memory')
      }
      this.#saving = false
    }
  }
}
