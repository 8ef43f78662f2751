/**
 * Fleet membership on Kubernetes: a Lease per replica (as kubelets keep node
 * Leases), renewed every TTL/3, its admin URL and applied revision in
 * annotations. A replica that dies stops renewing; readers drop a Lease whose
 * renewTime + leaseDurationSeconds has passed. A clean stop deletes it.
 */
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node'
import { Backoff, type BackoffPolicy } from './backoff.js'
import { httpStatus, MANAGED_BY, MEMBER_LABEL, microTime, objectName } from './kube-objects.js'
import type { Halting, MemberInfo, Registration } from './store.js'
import type { SyncTracker } from './sync-tracker.js'

const ADMIN_URL = 'switchyard.io/admin-url'
const APPLIED = 'switchyard.io/applied-revision'
const SYNCED = 'switchyard.io/synced-at'

export interface KubeMembersTarget {
  readonly api: CoordinationV1Api
  readonly namespace: string
  readonly configMap: string
  readonly call: <T>(what: string, fn: () => Promise<T>) => Promise<T>
  readonly timeout: <T>(p: Promise<T>) => Promise<T>
}

export function registerKube (target: KubeMembersTarget, member: MemberInfo, ttlSeconds: number, tracker: SyncTracker, policy: BackoffPolicy): Registration & Halting {
  const { api, namespace } = target
  const name = objectName(target.configMap, 'member', member.id)
  const backoff = new Backoff(policy)
  let info = member
  let resourceVersion: string | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let queue: Promise<void> = Promise.resolve()

  const body = (): V1Lease => ({
    metadata: {
      name,
      namespace,
      labels: { [MEMBER_LABEL]: target.configMap, ...MANAGED_BY },
      annotations: { [ADMIN_URL]: info.adminUrl, [APPLIED]: String(info.appliedRevision), [SYNCED]: info.syncedAt },
      ...(resourceVersion === undefined ? {} : { resourceVersion })
    },
    spec: { holderIdentity: info.id, leaseDurationSeconds: ttlSeconds, renewTime: microTime(Date.now()) }
  })

  const renewOnce = async (): Promise<void> => {
    try {
      const lease = resourceVersion === undefined
        ? await target.timeout(api.createNamespacedLease({ namespace, body: body() }))
        : await target.timeout(api.replaceNamespacedLease({ namespace, name, body: body() }))
      resourceVersion = lease.metadata?.resourceVersion
      tracker.ok()
      backoff.reset()
      schedule(ttlSeconds * 1000 / 3)
    } catch (err) {
      const code = httpStatus(err)
      if (code === 409 || code === 404) {
        // Someone else's version (AlreadyExists after a restart, a Conflict) or gone: learn the current one and go again at once.
        resourceVersion = code === 404 ? undefined : await target.timeout(api.readNamespacedLease({ namespace, name })).then(l => l.metadata?.resourceVersion, () => undefined)
        schedule(0)
        return
      }
      tracker.fail(err)
      schedule(backoff.next())
    }
  }

  const renew = (): Promise<void> => {
    queue = queue.then(() => closed ? undefined : renewOnce())
    return queue
  }

  function schedule (ms: number): void {
    clearTimeout(timer)
    if (!closed) timer = setTimeout(() => { void renew() }, ms)
  }

  void renew()
  return {
    update (appliedRevision, syncedAt) {
      info = { ...info, appliedRevision, syncedAt: syncedAt.toISOString() }
      void renew()
    },
    async close () {
      closed = true
      clearTimeout(timer)
      await queue
      await target.call('leave the fleet', () => api.deleteNamespacedLease({ namespace, name })).catch(() => undefined)
    },
    halt () {
      closed = true
      clearTimeout(timer)
    }
  }
}

/** The members whose Lease is still fresh. */
export function liveMembers (leases: readonly V1Lease[], now: number): MemberInfo[] {
  return leases.flatMap(l => {
    const a = l.metadata?.annotations ?? {}
    const renewed = Date.parse(String(l.spec?.renewTime ?? ''))
    const ttl = l.spec?.leaseDurationSeconds ?? 0
    const id = l.spec?.holderIdentity
    if (id === undefined || id === null || Number.isNaN(renewed) || renewed + ttl * 1000 < now) return []
    return [{ id, adminUrl: a[ADMIN_URL] ?? '', appliedRevision: Number(a[APPLIED] ?? 0), syncedAt: a[SYNCED] ?? '' }]
  }).sort((x, y) => x.id < y.id ? -1 : 1)
}
