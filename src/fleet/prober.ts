/**
 * Confirms every `intervalMs` that the store answers, so SyncState.lastSyncAt
 * stays fresh while nothing changes, and an outage shows as stale even when
 * no watch event or write is due (a partition that leaves sockets open).
 * Failures retry sooner, with backoff and jitter. Never throws.
 */
import { Backoff, type BackoffPolicy } from './backoff.js'
import type { SyncTracker } from './sync-tracker.js'

export class Prober {
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  readonly #backoff: Backoff

  constructor (private readonly probe: () => Promise<void>, private readonly tracker: SyncTracker, private readonly intervalMs: number, policy: BackoffPolicy) {
    this.#backoff = new Backoff(policy)
    this.#schedule(0)
  }

  #schedule (ms: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => { void this.#run() }, ms)
    this.#timer.unref()
  }

  async #run (): Promise<void> {
    try {
      await this.probe()
      this.tracker.ok()
      this.#backoff.reset()
      this.#schedule(this.intervalMs)
    } catch (err) {
      this.tracker.fail(err)
      this.#schedule(Math.min(this.intervalMs, this.#backoff.next()))
    }
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }
}
