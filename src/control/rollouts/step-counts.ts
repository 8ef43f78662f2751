/**
 * What a rollout's looks count with, in this process: the two arms'
 * counters (each process's apart where they come from processes that come
 * and go: a fleet's replicas, a primary's workers), and each rollout's
 * anchor for its current step (look.ts), which this process takes again
 * when it first looks at a step it did not start (after a restart, or as a
 * new leader).
 */
import type { Logger } from 'pino'
import { SwitchyardError } from '../../errors.js'
import { plus, type Counters } from '../../judge/counters.js'
import type { LiveConfig } from '../live-config.js'
import { anchorKey, type Anchor } from './look.js'
import { countersFromJson, type RolloutState } from './model.js'
import type { Arms, CountersReader } from './readings.js'

export interface Reading {
  /** Summed over every process. */
  readonly total: Counters
  /** Each process's apart, where the reader gives them (else undefined). */
  readonly members: ReadonlyMap<string, Counters> | undefined
}

export class StepCounts {
  readonly #anchors = new Map<string, Anchor>()

  constructor (private readonly counters: CountersReader, private readonly live: LiveConfig, private readonly logger: Logger) {}

  /** The two arms' counters now. */
  async read (s: RolloutState): Promise<Reading> {
    const arms = this.#arms(s)
    if (this.counters.readMembers === undefined) return { total: await this.counters.read(arms), members: undefined }
    const members = await this.counters.readMembers(arms)
    const all = [...members.values()]
    if (all.length === 0) throw new SwitchyardError('SY_ERR_FLEET_COUNTERS', `no process answered with the counters of ${s.route}`)
    return { total: all.slice(1).reduce(plus, all[0] as Counters), members }
  }

  /** The anchor of the rollout's current step in this process; after a restart or a change of leader, a new one that carries the step's counts. */
  anchor (s: RolloutState, reading: Counters): Anchor {
    const key = anchorKey(s)
    const known = this.#anchors.get(s.route)
    if (known?.key === key) return known
    const anchor = { key, start: reading, carried: s.step.counted === undefined ? undefined : countersFromJson(s.step.counted) }
    this.#anchors.set(s.route, anchor)
    if (s.step.counted !== undefined) this.logger.info({ rollout: s.route, step: s.step.index + 1 }, 'rollout step resumed with its counts and evidence')
    return anchor
  }

  /** A step this process starts: its window opens at `reading`. */
  started (s: RolloutState, reading: Counters): void {
    this.#anchors.set(s.route, { key: anchorKey(s), start: reading, carried: undefined })
  }

  /** The rollout ended, or someone else wrote it: the next look anchors afresh. */
  forget (route: string): void {
    this.#anchors.delete(route)
  }

  /** Another instance may move every rollout meanwhile: anchors from before would count twice. */
  forgetAll (): void {
    this.#anchors.clear()
  }

  /** The two arms; on a sticky route with assignments as the sample-ratio units. */
  #arms (s: RolloutState): Arms {
    const sticky = this.live.current.table.config.routes.find(r => r.name === s.route)?.sticky !== undefined
    return { route: s.route, canary: s.canary, baseline: s.baseline, sticky }
  }
}
