/**
 * Leadership for fleet-wide jobs (rollouts, anything that must run once per
 * fleet): the control plane's jobs ask `isLeader`, or hand a job to
 * `onLeading`, which runs it each time this replica starts leading and
 * aborts its signal when it stops (deposed, lease lost, shutdown).
 *
 * Leading is a hint, never a licence: client-go's election "does not
 * guarantee that only one client is acting as a leader" (no fencing), so a
 * job's writes must still be conditioned on the revision it read (the
 * config source's compare-and-swap). A deposed leader's late write then
 * fails instead of overwriting its successor's.
 *
 * A single instance, or one on a file source, is always its own leader.
 */
import type { Logger } from 'pino'
import type { RoutingStore } from '../fleet/store.js'

/** A fleet-wide job: runs while this replica leads; `signal` aborts when it stops leading. */
export type LeaderJob = (signal: AbortSignal) => void | Promise<void>

export interface Leadership {
  readonly isLeader: boolean
  /** Who leads now (an identity: the pod name), when known. */
  readonly leader: string | undefined
  /** This replica's identity in the election. */
  readonly identity: string
  /** Runs `job` now if leading and each time leading starts again; the returned function removes it (aborting a run). */
  onLeading (job: LeaderJob): () => void
  /** Steps down (another replica takes over without waiting for the lease) and aborts every running job. */
  close (): Promise<void>
}

class JobRunner {
  readonly #jobs = new Map<LeaderJob, AbortController | undefined>()
  #leading = false

  constructor (private readonly logger: Logger) {}

  get leading (): boolean {
    return this.#leading
  }

  add (job: LeaderJob): () => void {
    this.#jobs.set(job, undefined)
    if (this.#leading) this.#run(job)
    return () => {
      this.#jobs.get(job)?.abort()
      this.#jobs.delete(job)
    }
  }

  start (): void {
    this.#leading = true
    for (const job of this.#jobs.keys()) this.#run(job)
  }

  stop (): void {
    this.#leading = false
    for (const [job, ctl] of this.#jobs) {
      ctl?.abort()
      this.#jobs.set(job, undefined)
    }
  }

  #run (job: LeaderJob): void {
    const ctl = new AbortController()
    this.#jobs.set(job, ctl)
    Promise.resolve().then(() => job(ctl.signal)).catch((err: unknown) => {
      if (!ctl.signal.aborted) this.logger.error({ err }, 'a leader job failed')
    })
  }
}

/** Always the leader: a single instance, a file source. */
export function soloLeadership (identity: string, logger: Logger): Leadership {
  const runner = new JobRunner(logger)
  runner.start()
  return {
    isLeader: true,
    leader: identity,
    identity,
    onLeading: job => runner.add(job),
    close: async () => { runner.stop() }
  }
}

/** The fleet's election (etcd election, or a Kubernetes Lease with client-go's algorithm) through the store. */
export function fleetLeadership (store: RoutingStore, identity: string, logger: Logger): Leadership {
  const runner = new JobRunner(logger)
  let leader: string | undefined
  const candidacy = store.campaign(identity, {
    started: () => {
      logger.info({ identity }, 'leading fleet-wide jobs')
      runner.start()
    },
    stopped: () => {
      if (runner.leading) logger.warn({ identity }, 'no longer leading; fleet-wide jobs stopped here')
      runner.stop()
    },
    leader: id => { leader = id }
  })
  return {
    get isLeader () { return runner.leading },
    get leader () { return leader },
    identity,
    onLeading: job => runner.add(job),
    close: async () => {
      runner.stop()
      await candidacy.stop()
    }
  }
}
