/**
 * Fleet membership on etcd: one key per replica attached to a lease that
 * etcd3 keeps alive (every TTL/3). A replica that dies stops renewing and
 * etcd deletes its key when the TTL runs out. A lease lost in an outage is
 * granted again, with backoff, once etcd answers.
 */
import type { Lease, Namespace } from 'etcd3'
import { Backoff, type BackoffPolicy } from './backoff.js'
import type { Halting, MemberInfo, Registration } from './store.js'
import type { SyncTracker } from './sync-tracker.js'

export function registerEtcd (ns: Namespace, prefix: string, member: MemberInfo, ttlSeconds: number, tracker: SyncTracker, policy: BackoffPolicy): Registration & Halting {
  const key = prefix + member.id
  const backoff = new Backoff(policy)
  let info = member
  let lease: Lease | undefined
  let closed = false
  let timer: NodeJS.Timeout | undefined
  // Puts run one at a time, so an older revision never lands after a newer one.
  let queue: Promise<void> = Promise.resolve()

  const retry = (): void => {
    if (!closed) timer = setTimeout(grant, backoff.next())
  }

  const publish = (l: Lease): Promise<void> => {
    queue = queue.then(async () => {
      if (lease !== l) return
      try {
        await l.put(key).value(JSON.stringify(info))
        tracker.ok()
        backoff.reset()
      } catch (err) {
        tracker.fail(err)
        // The put failed: drop this lease (its key may be missing) and start over.
        if (lease === l) {
          lease = undefined
          l.release()
          retry()
        }
      }
    })
    return queue
  }

  function grant (): void {
    if (closed) return
    const l = ns.lease(ttlSeconds)
    lease = l
    l.on('lost', () => {
      if (lease !== l) return
      lease = undefined
      retry()
    })
    void publish(l)
  }

  grant()
  return {
    update (appliedRevision, syncedAt) {
      info = { ...info, appliedRevision, syncedAt: syncedAt.toISOString() }
      if (lease !== undefined) void publish(lease)
    },
    async close () {
      closed = true
      clearTimeout(timer)
      const l = lease
      lease = undefined
      await queue
      await l?.revoke().catch(() => undefined)
    },
    halt () {
      closed = true
      clearTimeout(timer)
      lease?.release()
      lease = undefined
    }
  }
}
