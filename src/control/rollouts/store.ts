/**
 * Where rollouts are kept: next to the routing (a file source's state
 * directory; with `serve --store`, the fleet's store, where every replica
 * reads and writes them). A put is compare-and-swap on a per-rollout
 * version, so two writers — a command and the controller's tick, or two
 * replicas, or a deposed leader and its successor — cannot overwrite each
 * other's change unseen.
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { atomicWrite } from '../../util/atomic-write.js'
import type { DocumentSet } from '../../fleet/store.js'
import type { RolloutState } from './model.js'

export interface Stored {
  readonly state: RolloutState
  /** Changes with every put; opaque (a counter in a file, etcd's mod revision, a Kubernetes resourceVersion). */
  readonly version: string
}

export interface RolloutStore {
  /** For status and logs: a file path, a key prefix. */
  readonly location: string
  list (): Promise<Stored[]>
  get (route: string): Promise<Stored | undefined>
  /**
   * Stores `state` if the route's rollout is still at `expected` (undefined:
   * none stored). Resolves with the new version, or undefined when someone
   * else wrote in between (nothing was written).
   */
  put (state: RolloutState, expected: string | undefined): Promise<string | undefined>
}

/** As kept in a file: the version a counter. */
interface Entry {
  readonly state: RolloutState
  readonly version: number
}
type Entries = Record<string, Entry>

const stored = (e: Entry): Stored => ({ state: e.state, version: String(e.version) })

/** Compare-and-swap over a whole-map load and save, one at a time. */
abstract class MapStore implements RolloutStore {
  #queue: Promise<unknown> = Promise.resolve()
  abstract readonly location: string
  protected abstract load (): Promise<Entries>
  protected abstract save (entries: Entries): Promise<void>

  async list (): Promise<Stored[]> {
    return Object.values(await this.load()).map(stored)
  }

  async get (route: string): Promise<Stored | undefined> {
    const e = (await this.load())[route]
    return e === undefined ? undefined : stored(e)
  }

  put (state: RolloutState, expected: string | undefined): Promise<string | undefined> {
    const run = this.#queue.then(async () => {
      const entries = await this.load()
      const now = entries[state.route]?.version
      if ((now === undefined ? undefined : String(now)) !== expected) return undefined
      const version = (now ?? 0) + 1
      await this.save({ ...entries, [state.route]: { state, version } })
      return String(version)
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

/**
 * The fleet's store (etcd keys, Kubernetes ConfigMaps): one JSON document
 * per route, every replica's commands and the leader's looks on the same
 * state; the store's compare-and-swap fences a deposed leader's late write.
 */
export class FleetRolloutStore implements RolloutStore {
  readonly location: string

  /** `onInvalid`: a document that is not a rollout (edited by hand), left out of `list()`. */
  constructor (private readonly docs: DocumentSet, private readonly onInvalid?: (name: string, err: Error) => void) {
    this.location = docs.location
  }

  /** Every readable rollout: one broken document must not stop the looks, status and console of every other route. */
  async list (): Promise<Stored[]> {
    const listed: Stored[] = []
    for (const d of await this.docs.list()) {
      try {
        listed.push({ state: parseState(d.text, `${this.location}: ${d.name}`), version: d.version })
      } catch (err) {
        this.onInvalid?.(d.name, err as Error)
      }
    }
    return listed
  }

  async get (route: string): Promise<Stored | undefined> {
    const d = await this.docs.get(route)
    return d === undefined ? undefined : { state: parseState(d.text, `${this.location}: ${d.name}`), version: d.version }
  }

  async put (state: RolloutState, expected: string | undefined): Promise<string | undefined> {
    return await this.docs.put(state.route, JSON.stringify(state), expected)
  }
}

function parseState (text: string, where: string): RolloutState {
  let s: RolloutState
  try {
    s = JSON.parse(text) as RolloutState
  } catch (err) {
    throw new Error(`${where}: not a rollout (${(err as Error).message})`)
  }
  if (typeof s !== 'object' || s === null || typeof s.route !== 'string') throw new Error(`${where}: not a rollout`)
  return s
}
