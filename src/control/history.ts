/**
 * Revision history, kept on disk so that a restart resumes the same
 * revision numbers and can still undo to earlier ones (like a Deployment's
 * ReplicaSets under `revisionHistoryLimit`). One JSON file, replaced
 * atomically; each entry keeps the whole config text it refers to, which is
 * small and makes undo exact.
 */
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Logger } from 'pino'
import { atomicWrite } from '../util/atomic-write.js'
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

interface HistoryFile {
  readonly version: 1
  readonly entries: RevisionEntry[]
}

export function historyFileFor (configPath: string, stateDir: string): string {
  return join(stateDir, `${basename(configPath)}.history.json`)
}

export class RevisionHistory {
  #entries: RevisionEntry[] = []
  #writable = true

  constructor (readonly file: string, private limit: number, private readonly logger: Logger) {}

  /** Reads the file; a missing or unreadable file starts an empty history (and says why). */
  async load (): Promise<void> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err, file: this.file }, 'revision history unreadable; starting a new one')
      return
    }
    try {
      const parsed = JSON.parse(text) as HistoryFile
      if (parsed.version !== 1 || !Array.isArray(parsed.entries)) throw new Error('unknown format')
      this.#entries = parsed.entries.filter(e => Number.isInteger(e.revision) && typeof e.config === 'string').sort((a, b) => a.revision - b.revision)
    } catch (err) {
      this.logger.warn({ err, file: this.file }, 'revision history is corrupt; starting a new one')
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
    this.limit = limit
  }

  /** Adds an entry, trims to the limit, persists. A write failure is logged once, never thrown: history is kept in memory. */
  async record (entry: RevisionEntry): Promise<void> {
    this.#entries.push(entry)
    if (this.#entries.length > this.limit) this.#entries = this.#entries.slice(-this.limit)
    const data: HistoryFile = { version: 1, entries: this.#entries }
    try {
      await atomicWrite(this.file, JSON.stringify(data, null, 1) + '\n')
      this.#writable = true
    } catch (err) {
      if (this.#writable) {
        this.logger.warn({ err, file: this.file }, 'cannot write the revision history (set SWITCHYARD_STATE_DIR to a writable directory); keeping it in memory')
      }
      this.#writable = false
    }
  }
}
