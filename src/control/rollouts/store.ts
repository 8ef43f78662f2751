/**
 * Where rollouts are kept: next to the routing (the file source's state
 * directory today; the fleet store can implement the same interface). A
 * put is compare-and-swap on a per-rollout version, so two writers — a
 * command and the controller's tick, or two replicas — cannot overwrite
 * each other's change unseen.
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { atomicWrite } from '../../util/atomic-write.js'
import type { RolloutState } from './model.js'

export interface Stored {
  readonly state: RolloutState
  /** Increases with every put; 0 means "not stored". */
  readonly version: number
}

export interface RolloutStore {
  /** For status and logs: a file path, a key prefix. */
  readonly location: string
  list (): Promise<Stored[]>
  get (route: string): Promise<Stored | undefined>
  /**
   * Stores `state` if the route's rollout is still at `expected` (0: none
   * stored). Resolves with the new version, or undefined when someone else
   * wrote in between (nothing was written).
   */
  put (state: RolloutState, expected: number): Promise<number | undefined>
}

type Entries = Record<string, Stored>

/** Compare-and-swap over a whole-map load and save, one at a time. */
abstract class MapStore implements RolloutStore {
  #queue: Promise<unknown> = Promise.resolve()
  abstract readonly location: string
  protected abstract load (): Promise<Entries>
  protected abstract save (entries: Entries): Promise<void>

  async list (): Promise<Stored[]> {
    return Object.values(await this.load())
  }

  async get (route: string): Promise<Stored | undefined> {
    return (await this.load())[route]
  }

  put (state: RolloutState, expected: number): Promise<number | undefined> {
    const run = this.#queue.then(async () => {
      const entries = await this.load()
      const now = entries[state.route]?.version ?? 0
      if (now !== expected) return undefined
      const version = now + 1
      await this.save({ ...entries, [state.route]: { state, version } })
      return version
    })
    this.#queue = run.catch(() => {})
    return run
  }
}

export class MemoryRolloutStore extends MapStore {
  readonly location = '(in memory)'
  #entries: Entries = {}

  protected async load (): Promise<Entries> {
    return this.#entries
  }

  protected async save (entries: Entries): Promise<void> {
    this.#entries = entries
  }
}

interface RolloutsFile {
  readonly version: 1
  readonly rollouts: Entries
}

/** The file a config file's rollouts are kept in: `<state dir>/<config file name>.rollouts.json`. */
export function rolloutFileFor (configPath: string, stateDir: string | undefined): string {
  return join(stateDir ?? dirname(configPath), `${basename(configPath)}.rollouts.json`)
}

/** One JSON file, replaced atomically (util/atomic-write.ts): a crash leaves the old state or the new, never half. */
export class FileRolloutStore extends MapStore {
  constructor (readonly location: string) {
    super()
  }

  protected async load (): Promise<Entries> {
    let text: string
    try {
      text = await readFile(this.location, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw err
    }
    const parsed = JSON.parse(text) as RolloutsFile
    if (parsed.version !== 1 || typeof parsed.rollouts !== 'object' || parsed.rollouts === null) {
      throw new Error(`${this.location}: not a rollouts file (version ${String(parsed.version)})`)
    }
    return parsed.rollouts
  }

  protected async save (entries: Entries): Promise<void> {
    const data: RolloutsFile = { version: 1, rollouts: entries }
    await atomicWrite(this.location, JSON.stringify(data) + '\n')
  }
}
