/**
 * A file source's revision history: one JSON file in the state directory
 * (`<state dir>/<config file name>.history.json`), replaced atomically.
 */
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { atomicWrite } from '../../../util/atomic-write.js'
import type { HistoryStore, RevisionEntry } from '../../history.js'

interface HistoryFile {
  readonly version: 1
  readonly entries: RevisionEntry[]
}

export function historyFileFor (configPath: string, stateDir: string): string {
  return join(stateDir, `${basename(configPath)}.history.json`)
}

/** `readOnly`: read the history but never write it (the CLI's offline edits leave the state directory alone). */
export function fileHistory (file: string, readOnly = false): HistoryStore {
  return {
    location: file,
    async load () {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw err
      }
      const parsed = JSON.parse(text) as HistoryFile
      if (parsed.version !== 1 || !Array.isArray(parsed.entries)) throw new Error('unknown format')
      return parsed.entries
    },
    async save (entries) {
      if (readOnly) return
      const data: HistoryFile = { version: 1, entries: [...entries] }
      await atomicWrite(file, JSON.stringify(data, null, 1) + '\n')
    }
  }
}
