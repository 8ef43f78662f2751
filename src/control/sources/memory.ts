/**
 * A config source held in memory: the CLI's offline edits of a config
 * embedded in a Kubernetes manifest (the caller writes the manifest back),
 * and tests. Its history lives as long as it does.
 */
import { sha256 } from '../../config/load.js'
import { SwitchyardError } from '../../errors.js'
import { memoryHistory } from '../history.js'
import type { ConfigSource, SourceRead, SourceWatch, WriteExpectation } from '../source.js'

export class MemorySource implements ConfigSource {
  readonly format = 'yaml'
  readonly history = memoryHistory
  readonly #listeners = new Set<() => void>()
  #text: string

  constructor (readonly location: string, text: string) {
    this.#text = text
  }

  get text (): string {
    return this.#text
  }

  async read (): Promise<SourceRead> {
    return { ok: true, text: this.#text, sha256: sha256(this.#text) }
  }

  async watch (onChange: () => void): Promise<SourceWatch> {
    this.#listeners.add(onChange)
    return { close: async () => { this.#listeners.delete(onChange) } }
  }

  async write (text: string, expected: WriteExpectation | undefined): Promise<undefined> {
    if (expected !== undefined && sha256(this.#text) !== expected.sha256) {
      throw new SwitchyardError('SY_ERR_ADMIN_PRECONDITION', `${this.location} changed since it was read`)
    }
    this.#text = text
    for (const fn of this.#listeners) fn()
    return undefined
  }
}
