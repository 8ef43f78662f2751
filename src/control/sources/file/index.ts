/**
 * The config file as a config source: read from disk, watched through its
 * directory (watch.ts), written atomically, history in the state directory.
 *
 * A write first checks that the file still holds the content the caller
 * expects (the running revision). If it does not, someone edited the file
 * by hand and that edit did not go live (it failed validation and waits to
 * be fixed): overwriting it would silently throw their work away, so the
 * write is refused (SY_ERR_ADMIN_FILE_CHANGED) unless forced.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { sha256 } from '../../../config/load.js'
import { SwitchyardError } from '../../../errors.js'
import { atomicWrite } from '../../../util/atomic-write.js'
import type { HistoryStore } from '../../history.js'
import type { ConfigSource, SourceRead, SourceWatch, WriteExpectation } from '../../source.js'
import type { SourceOptions } from '../open.js'
import { fileHistory, historyFileFor } from './history-file.js'
import { watchConfig } from './watch.js'

class FileSource implements ConfigSource {
  readonly format: 'yaml' | 'json'
  readonly history: HistoryStore

  constructor (readonly location: string, opts: SourceOptions) {
    this.format = /\.json$/i.test(location) ? 'json' : 'yaml'
    const stateDir = opts.stateDir ?? dirname(location)
    this.history = fileHistory(historyFileFor(location, stateDir), opts.readOnlyHistory)
  }

  async read (): Promise<SourceRead> {
    try {
      const text = await readFile(this.location, 'utf8')
      return { ok: true, text, sha256: sha256(text) }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      return { ok: false, problems: [{ code: 'SY_ERR_CONFIG_READ', path: '', message: `cannot read ${this.location}: ${e.code ?? e.message}` }] }
    }
  }

  async watch (onChange: () => void): Promise<SourceWatch> {
    return await watchConfig(this.location, onChange)
  }

  async write (text: string, expected: WriteExpectation | undefined): Promise<undefined> {
    if (expected !== undefined) {
      const now = await this.read()
      if (!now.ok || now.sha256 !== expected.sha256) {
        throw new SwitchyardError('SY_ERR_ADMIN_FILE_CHANGED',
          `${this.location} no longer holds the running revision (${now.ok ? 'edited since' : 'unreadable'}; see \`switchyard status\` for why that edit did not go live): ` +
          'fix the file, or repeat with force (`--force`, `?force=true`) to overwrite it')
      }
    }
    try {
      await atomicWrite(this.location, text)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
        throw new SwitchyardError('SY_ERR_ADMIN_READONLY', `the config file ${this.location} is read-only (${code}): ` +
          'on Kubernetes edit the ConfigMap instead (every replica reloads it), e.g. with `switchyard set-weight --file` on the manifest')
      }
      throw err
    }
    return undefined
  }
}

export function createSource (location: string, opts: SourceOptions): ConfigSource {
  return new FileSource(resolve(location), opts)
}
