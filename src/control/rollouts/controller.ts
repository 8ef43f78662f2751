/**
 * The rollout controller: runs each route's rollout as a control-plane
 * object. It moves the canary's weight step by step through the operations
 * service (every step is a revision in `history`), and every few seconds
 * judges the current step with src/judge on the data plane's counters,
 * canary against baseline. A worse canary is rolled back at once; a step
 * shown no worse moves on; a step without enough evidence at max-step, or
 * with a sample-ratio mismatch, pauses with its reason and is never rolled
 * back for lack of data. An edit by someone else to the route pauses the
 * rollout instead of fighting it.
 *
 * Everything it knows is in the store (store.ts) after each change, so a
 * restart or a new leader resumes the same step with the same evidence.
 * Only the instance that leads (leadership.ts) looks; commands and looks
 * run one at a time. The clock and the tick are injectable: tests drive
 * looks deterministically while real requests flow.
 */
import type { Logger } from 'pino'
import { SwitchyardError } from '../../errors.js'
import { judgeConfig } from '../../judge/config.js'
import { observed, type Counters } from '../../judge/counters.js'
import { startStep } from '../../judge/step.js'
import type { Verdict } from '../../judge/verdict.js'
import type { LiveConfig } from '../live-config.js'
import type { Operations } from '../operations.js'
import { SOLE_LEADER, type Leadership } from './leadership.js'
import { decisionOf, emptyStep, judgeFleetLook, judgeLook, marksOf, previousBaseline } from './look.js'
import { DECISIONS_KEPT, isActive, type AbortReason, type PauseReason, type RolloutSpec, type RolloutState, type StepState } from './model.js'
import { checkSpec, restoreWeights, shareOf, weightsAt, type Action } from './plan.js'
import type { CountersReader } from './readings.js'
import { StepCounts } from './step-counts.js'
import type { RolloutStore, Stored } from './store.js'

/** How often a leader looks at its rollouts by default ("every few seconds"). */
export const DEFAULT_TICK_MS = 5000

export interface RolloutObserver {
  /** A look decided something (anything but "keep looking"). */
  judged (state: RolloutState, verdict: Verdict, action: Action): void
}

export interface RolloutControllerOptions {
  readonly live: LiveConfig
  readonly operations: Operations
  readonly store: RolloutStore
  readonly counters: CountersReader
  readonly logger: Logger
  readonly leadership?: Leadership
  /** The clock, in ms (default Date.now). */
  readonly now?: () => number
  readonly observer?: RolloutObserver
}

const routeJson = (live: LiveConfig, route: string): string => JSON.stringify(live.current.table.config.routes.find(r => r.name === route) ?? null)

export class RolloutController {
  readonly #o: RolloutControllerOptions
  readonly #now: () => number
  readonly #leadership: Leadership
  readonly #counts: StepCounts
  /** The last state of each rollout this controller stored or read (for metrics, read synchronously). */
  readonly #seen = new Map<string, RolloutState>()
  /**
   * During a look: the stored rollout it started from. Reading the counters
   * can take seconds (a fleet's members over HTTP), and a routing write is
   * not undone by losing the rollout's compare-and-swap afterwards, so every
   * routing write of a look first checks that nobody (a command on another
   * replica, a new leader) has written the rollout since.
   */
  #fence: Stored | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined

  constructor (opts: RolloutControllerOptions) {
    this.#o = opts
    this.#now = opts.now ?? Date.now
    this.#leadership = opts.leadership ?? SOLE_LEADER
    this.#counts = new StepCounts(opts.counters, opts.live, opts.logger)
  }

  /** Every rollout as last seen, for metrics. */
  get known (): readonly RolloutState[] {
    return [...this.#seen.values()]
  }

  /** Looks every `ms` until stop(). */
  run (ms = DEFAULT_TICK_MS): void {
    this.#timer ??= setInterval(() => {
      this.tick().catch((err: unknown) => this.#o.logger.error({ err }, 'rollout look failed; trying again at the next'))
    }, ms)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#exclusive(async () => {})
  }

  /** Reads the stored rollouts (at start: metrics show them before the first look). */
  async load (): Promise<void> {
    for (const { state } of await this.#o.store.list()) this.#seen.set(state.route, state)
  }

  async list (): Promise<RolloutState[]> {
    const all = await this.#o.store.list()
    return all.map(s => s.state).sort((a, b) => a.route.localeCompare(b.route))
  }

  async get (route: string): Promise<RolloutState> {
    return (await this.#stored(route)).state
  }

  /** One look at every progressing rollout, when this instance leads. */
  async tick (): Promise<void> {
    await this.#exclusive(async () => {
      let all: Stored[]
      try {
        all = await this.#o.store.list()
      } catch (err) {
        // A follower only refreshes what its metrics show: the store out of reach is the fleet's news, not its own error.
        if (this.#leadership.isLeader()) throw err
        this.#o.logger.debug({ err }, 'rollouts not refreshed: the store did not answer')
        return
      }
      // Every instance shows the same rollouts in its metrics; only the leader moves them.
      for (const stored of all) this.#seen.set(stored.state.route, stored.state)
      if (!this.#leadership.isLeader()) {
        this.#counts.forgetAll()
        return
      }
      for (const stored of all) {
        if (stored.state.phase !== 'Progressing') continue
        // Deposed during this tick: stop at once (a look already under way is fenced by the store's compare-and-swap).
        if (!this.#leadership.isLeader()) break
        // One rollout's failure (its counters unreadable, a lost race on its state) leaves the others' looks alone.
        this.#fence = stored
        await this.#look(stored).catch((err: unknown) => {
          this.#o.logger.error({ err, rollout: stored.state.route }, 'rollout look failed; trying again at the next')
        }).finally(() => { this.#fence = undefined })
      }
    })
  }

  async start (spec: RolloutSpec): Promise<RolloutState> {
    return await this.#exclusive(async () => {
      const existing = await this.#o.store.get(spec.route)
      if (existing !== undefined && isActive(existing.state)) {
        throw new SwitchyardError('SY_ERR_ROLLOUT_ACTIVE', `route ${spec.route} already has a rollout (${existing.state.phase}, ${existing.state.canary} at ${existing.state.weight} %): abort it or let it finish`)
      }
      const checked = checkSpec(spec, this.#o.live.current.table.config)
      const at = new Date(this.#now()).toISOString()
      const live = this.#o.live.current
      const base: RolloutState = {
        route: checked.route,
        canary: checked.canary,
        baseline: checked.baseline,
        steps: checked.steps,
        pauseAt: checked.pauseAt,
        judge: spec.judge ?? {},
        startWeights: checked.startWeights,
        startRevision: live.revision,
        phase: 'Progressing',
        message: `started: ${checked.canary} against ${checked.baseline}, steps ${checked.steps.join(', ')} %`,
        step: emptyStep(0, 0),
        weight: checked.startWeights[checked.canary] ?? 0,
        revision: live.revision,
        routeConfig: routeJson(this.#o.live, checked.route),
        decisions: [],
        createdAt: at,
        updatedAt: at
      }
      this.#o.logger.info({ rollout: base.route, canary: base.canary, baseline: base.baseline, steps: base.steps, pauseAt: base.pauseAt }, 'rollout started')
      const next = await this.#enterStep(base, 0, undefined)
      return await this.#save(next, existing?.version)
    })
  }

  async pause (route: string): Promise<RolloutState> {
    return await this.#command(route, ['Progressing'], async s => ({ ...s, phase: 'Paused', pauseReason: 'manual', pausedAt: this.#now(), message: 'paused by an operator: `rollout resume` continues the step' }))
  }

  /**
   * Continues a paused rollout: after a manual pause the same step goes on
   * (the time paused does not count); after a manual gate the next step
   * starts; after an inconclusive or sample-ratio verdict, or someone
   * else's edit, the step's weights are set again and it is judged afresh.
   */
  async resume (route: string): Promise<RolloutState> {
    return await this.#command(route, ['Paused'], async s => {
      const resumed = { ...s, phase: 'Progressing' as const, pauseReason: undefined, pausedAt: undefined }
      switch (s.pauseReason) {
        case 'manual':
          return { ...resumed, message: 'resumed by an operator', step: { ...s.step, pausedMs: s.step.pausedMs + Math.max(0, this.#now() - (s.pausedAt ?? this.#now())) } }
        case 'gate':
          return await this.#advance(resumed, 'resumed after the manual gate')
        default: {
          // The operator accepts the route as it is now (after an edit): the rollout's weights are set on top of it.
          const accepted = { ...resumed, revision: this.#o.live.current.revision, routeConfig: routeJson(this.#o.live, s.route) }
          return await this.#enterStep(accepted, s.step.index, previousBaseline(s), `resumed: step ${s.step.index + 1} judged afresh`)
        }
      }
    })
  }

  /** Skips the rest of the current step (`full`: every remaining step) and moves on. */
  async promote (route: string, full: boolean): Promise<RolloutState> {
    return await this.#command(route, ['Progressing', 'Paused'], async s => {
      const moving = { ...s, phase: 'Progressing' as const, pauseReason: undefined, pausedAt: undefined }
      return full ? await this.#finish(moving, 'promoted in full by an operator') : await this.#advance(moving, `step ${s.step.index + 1} promoted by an operator`)
    })
  }

  async abort (route: string): Promise<RolloutState> {
    return await this.#command(route, ['Progressing', 'Paused'], async s => await this.#abort(s, 'manual', 'aborted by an operator'))
  }

  async #command (route: string, phases: ReadonlyArray<RolloutState['phase']>, change: (s: RolloutState) => Promise<RolloutState>): Promise<RolloutState> {
    return await this.#exclusive(async () => {
      const stored = await this.#stored(route)
      if (!phases.includes(stored.state.phase)) {
        throw new SwitchyardError('SY_ERR_ROLLOUT_PHASE', `the rollout of ${route} is ${stored.state.phase}${stored.state.pauseReason === undefined ? '' : ` (${stored.state.pauseReason})`}; this needs it ${phases.join(' or ')}`)
      }
      return await this.#save(await change(stored.state), stored.version)
    })
  }

  async #stored (route: string): Promise<Stored> {
    const stored = await this.#o.store.get(route)
    if (stored === undefined) throw new SwitchyardError('SY_ERR_ROLLOUT_NOT_FOUND', `no rollout for route ${route} (see \`switchyard rollout status\`)`)
    return stored
  }

  /** One look at a progressing rollout: someone else's edit pauses it; otherwise the judge decides. */
  async #look (stored: Stored): Promise<void> {
    let s = stored.state
    const live = this.#o.live.current
    // In a fleet the rollout's last step may have been written by another replica (a command, a former
    // leader): until this one applies that revision its routing is behind, not edited by someone else.
    if (live.revision < s.revision) return
    if (live.revision !== s.revision) {
      const now = routeJson(this.#o.live, s.route)
      if (now !== s.routeConfig) {
        const entry = this.#o.live.history.get(live.revision)
        const by = entry === undefined ? '' : ` (${entry.source}: ${entry.summary})`
        await this.#save(this.#paused(s, 'edited', `paused: route ${s.route} was changed by revision ${live.revision}${by}, not by the rollout; \`rollout resume\` sets the step's weights again, \`rollout abort\` restores the start`), stored.version)
        return
      }
      s = { ...s, revision: live.revision }
    }
    const { total, members } = await this.#counts.read(s)
    const now = this.#now()
    // Taken in a fleet too, though unused there: it is how this process notices (and logs) a step it takes over.
    const anchor = this.#counts.anchor(s, total)
    // In a fleet every member's increase since the last look (whoever took it); else this process's since its anchor.
    const looked = members === undefined ? judgeLook(s, total, anchor, now) : judgeFleetLook(s, members, now)
    const { verdict, action } = looked
    s = looked.state
    if (action === 'continue') {
      this.#o.logger.debug({ rollout: s.route, step: s.step.index + 1, outcome: verdict.outcome, reason: verdict.reason }, 'rollout step judged')
      await this.#save(s, stored.version)
      return
    }
    s = { ...s, decisions: [...s.decisions, decisionOf(s, verdict, action, now)].slice(-DECISIONS_KEPT) }
    this.#o.logger.info({
      rollout: s.route,
      step: s.step.index + 1,
      weight: s.weight,
      outcome: verdict.outcome,
      rule: verdict.rule,
      action,
      canary: verdict.canary,
      baseline: verdict.baseline,
      errorsP: verdict.errors.worse.pValue,
      latencyP: verdict.latency?.worse.pValue,
      alpha: verdict.alpha,
      reason: verdict.reason
    }, 'rollout decision')
    this.#o.observer?.judged(s, verdict, action)
    switch (action) {
      case 'abort':
        s = await this.#abort(s, verdict.outcome === 'critical' ? 'critical' : 'worse', `aborted at ${s.weight} %: ${verdict.reason}`)
        break
      case 'pause':
        s = this.#paused(s, verdict.outcome === 'srm' ? 'sample-ratio' : 'inconclusive', `paused at ${s.weight} %: ${verdict.reason}`)
        break
      case 'gate':
        s = this.#paused(s, 'gate', `paused at the manual gate after ${s.weight} % (step passed: ${verdict.reason}); \`rollout resume\` goes on`)
        break
      case 'advance':
        s = await this.#advance(s, `step ${s.step.index + 1} passed: ${verdict.reason}`)
        break
    }
    await this.#save(s, stored.version)
  }

  #paused (s: RolloutState, reason: PauseReason, message: string): RolloutState {
    this.#o.logger.warn({ rollout: s.route, step: s.step.index + 1, weight: s.weight, reason }, message)
    return { ...s, phase: 'Paused', pauseReason: reason, pausedAt: this.#now(), message }
  }

  /** The next step, or the end. */
  async #advance (s: RolloutState, message: string): Promise<RolloutState> {
    const next = s.step.index + 1
    if (next >= s.steps.length) return await this.#finish(s, `${message}; last step done`)
    return await this.#enterStep(s, next, previousBaseline(s), message)
  }

  /**
   * Sets step `index`'s weights (a revision) and starts judging it. The
   * threshold is frozen now, from the baseline's durations before the step:
   * the previous step's window, or for the first step everything counted so far.
   */
  async #enterStep (s: RolloutState, index: number, previous: Counters['baseline']['buckets'] | undefined, message?: string): Promise<RolloutState> {
    const percent = s.steps[index] as number
    if (percent >= 100) return await this.#finish({ ...s, step: { ...s.step, index } }, message ?? 'started at 100 %')
    const weights = weightsAt(s, percent)
    // Read before the write: counters that cannot be read (a fleet member that does not answer, none live) then
    // fail the change with nothing written, instead of weights live whose step was never saved (the next look
    // would take them for someone else's edit). What the old weights serve until the write lands counts in the
    // new step: milliseconds here, and in a fleet the replicas apply the step a moment apart anyway.
    const { total: reading, members } = await this.#counts.read(s)
    const written = await this.#write(s, weights, `rollout ${s.route}: step ${index + 1}/${s.steps.length}: `)
    if (written.phase === 'Paused') return written
    const share = shareOf(s, weights)
    const now = this.#now()
    // A previous step without baseline traffic sets no threshold: then everything the baseline served so far does.
    const before = previous !== undefined && observed(previous) > 0 ? previous : reading.baseline.buckets
    const judged = startStep({ config: judgeConfig(s.judge), weight: share, now, counters: reading, previousBaseline: before })
    // In a fleet the window opens at these marks, whichever replica looks next.
    const step: StepState = { ...emptyStep(index, share), startedAt: now, threshold: judged.threshold, guardrailBound: judged.guardrailBound, ...(members === undefined ? {} : { marks: marksOf(members) }) }
    const next: RolloutState = { ...written, phase: 'Progressing', weight: percent, step, lastVerdict: undefined, message: `${message === undefined ? '' : `${message}; `}step ${index + 1}/${s.steps.length}: ${s.canary} at ${percent} %` }
    this.#counts.started(next, reading)
    return next
  }

  /** The canary takes all of the two arms' traffic. */
  async #finish (s: RolloutState, message: string): Promise<RolloutState> {
    const written = await this.#write(s, weightsAt(s, 100), `rollout ${s.route}: promoted: `)
    if (written.phase === 'Paused') return written
    this.#o.logger.info({ rollout: s.route, canary: s.canary }, 'rollout succeeded')
    this.#counts.forget(s.route)
    return { ...written, phase: 'Succeeded', weight: 100, message: `succeeded: ${message}` }
  }

  /**
   * Back to the starting weights. Not conditional on the routing revision: a bad canary must go even when someone
   * else edited meanwhile. In a look it is conditional on the rollout's version (#fence): after a command or a new
   * leader wrote the rollout, the look's verdict is stale and the next look decides again.
   */
  async #abort (s: RolloutState, reason: AbortReason, message: string): Promise<RolloutState> {
    await this.#checkFence()
    const result = await this.#o.operations.setWeights(s.route, restoreWeights(s), { origin: 'rollout', note: `rollout ${s.route}: aborted: ` })
    this.#counts.forget(s.route)
    this.#o.logger.warn({ rollout: s.route, reason, revision: result.revision }, message)
    return {
      ...s,
      phase: 'Aborted',
      pauseReason: undefined,
      abortReason: reason,
      weight: s.startWeights[s.canary] ?? 0,
      revision: result.revision,
      routeConfig: routeJson(this.#o.live, s.route),
      message: `${message}; weights restored (revision ${result.revision})`
    }
  }

  /**
   * Writes weights as a revision, only if the config is still at the one the
   * rollout knows: a lost race or a hand edit pending in the file pauses the
   * rollout (someone else is changing routing) instead of overwriting it.
   */
  async #write (s: RolloutState, weights: Record<string, number>, note: string): Promise<RolloutState> {
    await this.#checkFence()
    try {
      const result = await this.#o.operations.setWeights(s.route, weights, { origin: 'rollout', expected: [s.revision], note })
      return { ...s, revision: result.revision, routeConfig: routeJson(this.#o.live, s.route) }
    } catch (err) {
      if (err instanceof SwitchyardError && (err.code === 'SY_ERR_ADMIN_PRECONDITION' || err.code === 'SY_ERR_ADMIN_FILE_CHANGED')) {
        return this.#paused(s, 'edited', `paused: the rollout could not set ${JSON.stringify(weights)}: ${err.message}`)
      }
      throw err
    }
  }

  /** In a look: the rollout still at the version the look read (see #fence). */
  async #checkFence (): Promise<void> {
    const fence = this.#fence
    if (fence === undefined) return
    const now = await this.#o.store.get(fence.state.route)
    if (now?.version !== fence.version) throw this.#conflict(fence.state.route)
  }

  #conflict (route: string): SwitchyardError {
    this.#counts.forget(route)
    return new SwitchyardError('SY_ERR_ROLLOUT_CONFLICT', `the rollout of ${route} was changed by someone else meanwhile; read it again`)
  }

  async #save (s: RolloutState, expected: string | undefined): Promise<RolloutState> {
    const saved = { ...s, updatedAt: new Date(this.#now()).toISOString() }
    const version = await this.#o.store.put(saved, expected)
    if (version === undefined) throw this.#conflict(s.route)
    this.#seen.set(saved.route, saved)
    return saved
  }

  #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => {})
    return run
  }
}
