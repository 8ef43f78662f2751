/**
 * Keeps a store's SyncState: every successful round trip confirms the sync,
 * every failure marks the store out of reach until the next success. Only
 * changes of `connected` are announced, so a flapping loop does not flood
 * the log.
 */
import type { SyncState } from './store.js'

export class SyncTracker {
  #state: SyncState = { connected: false, lastSyncAt: undefined, error: undefined, relists: 0 }
  readonly #listeners = new Set<(s: SyncState) => void>()

  constructor (private readonly now: () => number = Date.now) {}

  get state (): SyncState {
    return this.#state
  }

  ok (): void {
    const was = this.#state.connected
    this.#state = { ...this.#state, connected: true, lastSyncAt: this.now(), error: undefined }
    if (!was) this.#announce()
  }

  fail (err: unknown): void {
    const was = this.#state.connected
    this.#state = { ...this.#state, connected: false, error: describe(err) }
    if (was) this.#announce()
  }

  relisted (): void {
    this.#state = { ...this.#state, relists: this.#state.relists + 1 }
  }

  listen (fn: (s: SyncState) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  #announce (): void {
    for (const fn of this.#listeners) fn(this.#state)
  }
}

/** A one-line reason for logs and status. */
export function describe (err: unknown): string {
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  return String(err)
}
