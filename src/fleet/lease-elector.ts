/**
 * Leader election with a coordination.k8s.io/v1 Lease, ported from
 * client-go's leaderelection (tryAcquireOrRenew): every retryPeriod a
 * candidate reads the Lease; it takes it over when the holder has not
 * renewed it for leaseDuration as measured on the candidate's own clock
 * (from when it last saw the record change, so clock skew between replicas
 * does not matter), by an update conditioned on the resourceVersion it read,
 * so two candidates cannot both win (one change: a candidate also tries
 * right when the holder's lease runs out, instead of at its next retry). A
 * leader renews every retryPeriod and
 * steps down when no renewal has succeeded for renewDeadline. Like client-go
 * this does not fence by itself: a deposed leader's writes fail because they
 * are conditioned on the routing revision.
 */
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node'
import { httpStatus, MANAGED_BY, microTime } from './kube-objects.js'
import type { Candidacy, Halting, LeaderHandlers } from './store.js'

export interface LeaderTiming {
  readonly leaseDurationMs: number
  readonly renewDeadlineMs: number
  readonly retryPeriodMs: number
}

/** Argo Rollouts' defaults (client-go's are 15 s / 10 s / 2 s too). */
export const DEFAULT_LEADER_TIMING: LeaderTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }

export interface LeaseTarget {
  readonly api: CoordinationV1Api
  readonly namespace: string
  readonly name: string
  readonly timeout: <T>(p: Promise<T>) => Promise<T>
}

export function electWithLease (target: LeaseTarget, identity: string, handlers: LeaderHandlers, timing: LeaderTiming): Candidacy & Halting {
  const { api, namespace, name } = target
  let observed: string | undefined
  let observedAt = 0
  let lastRenew = 0
  let leading = false
  let leader: string | undefined | null = null
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()

  const report = (who: string | undefined): void => {
    if (leader !== who) {
      leader = who
      handlers.leader?.(who)
    }
  }

  const spec = (current: V1LeaseSpec | undefined, now: number): V1LeaseSpec => {
    const mine = current?.holderIdentity === identity
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.round(timing.leaseDurationMs / 1000)),
      acquireTime: mine && current?.acquireTime !== undefined ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current?.leaseTransitions ?? 0) + (mine || current === undefined ? 0 : 1)
    }
  }

  /** One round of client-go's tryAcquireOrRenew: true when this candidate holds the Lease now. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const now = Date.now()
    let lease: V1Lease
    try {
      lease = await target.timeout(api.readNamespacedLease({ namespace, name }))
    } catch (err) {
      if (httpStatus(err) !== 404) return false
      const body: V1Lease = { metadata: { name, namespace, labels: { ...MANAGED_BY } }, spec: spec(undefined, now) }
      return await target.timeout(api.createNamespacedLease({ namespace, body })).then(created => { remember(created, now); return true }, () => false)
    }
    remember(lease, now)
    const holder = lease.spec?.holderIdentity ?? ''
    if (holder !== '' && holder !== identity && observedAt + timing.leaseDurationMs > now) return false
    const body: V1Lease = { ...lease, spec: spec(lease.spec, now) }
    return await target.timeout(api.replaceNamespacedLease({ namespace, name, body })).then(updated => { remember(updated, now); return true }, () => false)
  }

  /** Notes the record and, when it changed, the local time it was seen: expiry is judged from that. */
  function remember (lease: V1Lease, now: number): void {
    const s = lease.spec
    const record = JSON.stringify([s?.holderIdentity, String(s?.renewTime), s?.leaseTransitions])
    if (record !== observed) {
      observed = record
      observedAt = now
    }
    report(s?.holderIdentity === '' ? undefined : s?.holderIdentity ?? undefined)
  }

  const round = async (): Promise<void> => {
    const held = await tryAcquireOrRenew().catch(() => false)
    if (stopped) return
    const now = Date.now()
    if (held) {
      lastRenew = now
      if (!leading) {
        leading = true
        handlers.started()
      }
    } else if (leading && now - lastRenew > timing.renewDeadlineMs) {
      leading = false
      handlers.stopped()
    }
    // client-go jitters the acquire loop (factor 1.2) so candidates do not poll in step.
    const retry = leading ? timing.retryPeriodMs : timing.retryPeriodMs * (1 + 0.2 * Math.random())
    // Unlike client-go, a candidate that saw another holder tries again no later than that holder's lease runs
    // out on its own clock: a dead leader is replaced when its lease ends, not up to a retry period after.
    const untilExpiry = leader === null || leader === undefined || leader === identity ? Infinity : observedAt + timing.leaseDurationMs - now
    const wait = untilExpiry > 0 ? Math.min(retry, untilExpiry + 5) : retry
    timer = setTimeout(() => { running = round() }, wait)
  }

  const halt = (): void => {
    stopped = true
    clearTimeout(timer)
    if (leading) {
      leading = false
      handlers.stopped()
    }
  }

  running = round()
  return {
    get leading () { return leading },
    async stop () {
      const was = leading
      halt()
      await running
      if (!was) return
      // client-go's ReleaseOnCancel: empty holder, a 1 s lease, so the next candidate takes over on its next round.
      await target.timeout(api.readNamespacedLease({ namespace, name })).then(lease => {
        if (lease.spec?.holderIdentity !== identity) return undefined
        const now = microTime(Date.now())
        return target.timeout(api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } } }))
      }).catch(() => undefined)
    },
    halt
  }
}
