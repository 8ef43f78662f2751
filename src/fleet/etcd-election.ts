/**
 * Leader election on etcd, the Go client's concurrency.Election done with a
 * lease and a transaction: each candidate puts election/leader/LEASE_ID
 * (its identity) under its own lease, create-only; the key with the oldest
 * create revision leads. Candidates watch the prefix and look again after
 * every change. A leader that resigns revokes its lease (its key goes at
 * once); one whose process dies stops renewing and etcd deletes its key
 * after the TTL. A lease lost in an outage ends leadership at once (etcd3
 * declares it lost once renewals have failed for the TTL) and the campaign
 * starts again with backoff.
 * (etcd3's own Election keeps its lease alive until the client closes and
 * cannot be abandoned without resigning, which a crash test needs.)
 */
import type { Lease, Namespace, Watcher } from 'etcd3'
import { Backoff, type BackoffPolicy } from './backoff.js'
import type { Candidacy, Halting, LeaderHandlers } from './store.js'

export function campaignEtcd (ns: Namespace, prefix: string, identity: string, handlers: LeaderHandlers, ttlSeconds: number, policy: BackoffPolicy): Candidacy & Halting {
  const backoff = new Backoff(policy)
  let lease: Lease | undefined
  let watcher: Watcher | undefined
  let myKey: string | undefined
  let leading = false
  let leader: string | undefined | null = null
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const setLeading = (now: boolean): void => {
    if (leading === now) return
    leading = now
    if (now) handlers.started()
    else handlers.stopped()
  }

  const report = (who: string | undefined): void => {
    if (leader === who) return
    leader = who
    handlers.leader?.(who)
  }

  /** Drops this attempt (lease, watch) and, unless stopping, tries again later. */
  const retry = (): void => {
    setLeading(false)
    const l = lease
    lease = undefined
    myKey = undefined
    l?.release()
    void watcher?.cancel().catch(() => undefined)
    watcher = undefined
    if (!stopped) timer = setTimeout(() => { void run() }, backoff.next())
  }

  /** Reads the candidates, oldest first: the first leads. */
  const check = async (l: Lease): Promise<void> => {
    const res = await ns.getAll().prefix(prefix).sort('Create', 'Ascend').exec()
    if (lease !== l) return
    const first = res.kvs[0]
    report(first?.value.toString())
    if (myKey !== undefined && !res.kvs.some(kv => kv.key.toString() === myKey)) throw new Error('the campaign key is gone')
    setLeading(first !== undefined && first.key.toString() === myKey)
  }

  const run = async (): Promise<void> => {
    if (stopped) return
    const l = ns.lease(ttlSeconds)
    lease = l
    l.on('lost', () => { if (lease === l) retry() })
    try {
      const id = await l.grant()
      const key = `${prefix}${id}`
      const put = await ns.if(key, 'Create', '==', 0).then(ns.put(key).value(identity).lease(id)).commit()
      if (lease !== l) return
      myKey = key
      const w = ns.watch().prefix(prefix).startRevision((BigInt(put.header.revision) + 1n).toString()).watcher()
      watcher = w
      w.on('data', () => { check(l).catch(() => { if (lease === l) retry() }) })
      w.on('error', () => { if (lease === l) retry() })
      await check(l)
      backoff.reset()
    } catch {
      if (lease === l) retry()
    }
  }

  const halt = (): void => {
    stopped = true
    clearTimeout(timer)
    retry()
  }

  void run()
  return {
    get leading () { return leading },
    async stop () {
      stopped = true
      clearTimeout(timer)
      const l = lease
      lease = undefined
      setLeading(false)
      void watcher?.cancel().catch(() => undefined)
      watcher = undefined
      await l?.revoke().catch(() => undefined)
    },
    halt
  }
}
