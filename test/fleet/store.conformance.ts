/**
 * One suite for every RoutingStore (hono's common.case.test habit): run by
 * etcd-store.test.ts against a real 3-member etcd and by kube-store.test.ts
 * against the fake Kubernetes API server. Each test works on its own
 * document (a fresh scope), through clients that stand for replicas.
 * Convergence is awaited on events or conditions with generous deadlines;
 * nothing here measures time.
 */
import type { Test } from 'tap'
import { FleetRolloutStore } from '../../src/control/rollouts/store.js'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import { StoreError } from '../../src/fleet/store-error.js'
import { rolloutStoreCases } from '../helpers/rollout-store-cases.js'
import { until } from '../helpers/until.js'
import type { HistoryEntry, MemberInfo, RoutingStore, StoredConfig, SyncState } from '../../src/fleet/store.js'

export interface StoreClient {
  readonly store: RoutingStore
  /** Partitions this client from the store (its connections are reset), and back. */
  cut (): void
  reopen (): void
}

export interface StoreHarness {
  /** A new client (a replica) of the document named `scope`. */
  open (scope: string): Promise<StoreClient>
  /** The whole store goes down (etcd: every member stopped; Kubernetes: the API server), and comes back. */
  outage (): Promise<void>
  recover (): Promise<void>
  /** The store forgets the changes made so far (etcd compaction; the API server's 410 Gone point). */
  compact (): Promise<void>
  /** Changes the text behind switchyard's back (etcdctl put, kubectl apply). */
  editExternally (scope: string, text: string): Promise<void>
  /** The lease duration the harness gave the stores, ms: a dead leader or member is gone within it. */
  readonly leaseMs: number
}

const LONG = 20_000

/** Resolves when `ok()` holds; rejects with `what` after the deadline. */
export async function eventually (what: string, ok: () => Promise<boolean> | boolean, timeoutMs = LONG): Promise<void> {
  await until(what, ok, timeoutMs)
}

/** Every document a watch delivers, and a way to await the one that matches. */
function record (store: RoutingStore): { docs: Array<StoredConfig | undefined>, states: SyncState[], until: (what: string, ok: (d: StoredConfig | undefined) => boolean) => Promise<void>, stop: () => Promise<void> } {
  const docs: Array<StoredConfig | undefined> = []
  const states: SyncState[] = []
  const waiters = new Set<() => void>()
  const w = store.watch({
    change: d => { docs.push(d); for (const fn of waiters) fn() },
    state: s => { states.push(s); for (const fn of waiters) fn() }
  })
  const until = (what: string, ok: (d: StoredConfig | undefined) => boolean): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (docs.length > 0 && ok(docs.at(-1))) { waiters.delete(check); clearTimeout(timer); resolve() }
    }
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}; saw ${docs.map(d => d?.revision).join(',')}`)) }, LONG)
    waiters.add(check)
    check()
  })
  return { docs, states, until, stop: () => w.stop() }
}

const entry = (revision: number): HistoryEntry => ({ revision, time: new Date(Date.UTC(2025, 0, 1, 0, revision)).toISOString(), source: 'api', summary: `change ${revision}`, sha256: `sha-${revision}`, config: `routes: ${revision}\n` })
const member = (id: string, appliedRevision = 1): MemberInfo => ({ id, adminUrl: `http://127.0.0.1:99${id.length}/`, appliedRevision, syncedAt: new Date(0).toISOString() })

export function storeConformance (t: Test, harness: StoreHarness): void {
  let n = 0
  const clients = async (t: Test, count: number): Promise<StoreClient[]> => {
    const scope = `s${++n}`
    const cs = await Promise.all(Array.from({ length: count }, () => harness.open(scope)))
    t.teardown(() => Promise.all(cs.map(c => c.store.close())))
    return cs
  }

  /** Two clients of one store: `a` writes revision 1, `b` watches it (recorded in `seen`). */
  const watchedPair = async (t: Test): Promise<{ a: StoreClient, b: StoreClient, seen: ReturnType<typeof record> }> => {
    const [a, b] = await clients(t, 2)
    if (a === undefined || b === undefined) throw new Error('no client')
    await a.store.createIfAbsent('v: 1\n')
    const seen = record(b.store)
    t.teardown(seen.stop)
    await seen.until('revision 1', d => d?.revision === 1)
    return { a, b, seen }
  }

  t.test('read, create-if-absent, write-if-revision and conflicts', async t => {
    const [a] = await clients(t, 1)
    if (a === undefined) throw new Error('no client')
    t.equal(await a.store.read(), undefined, 'an empty store has no document')
    t.same(await a.store.writeIfRevision('x: 1\n', 0), { ok: false, current: undefined }, 'no write-if-revision on an empty store')
    t.same(await a.store.createIfAbsent('a: 1\n'), { ok: true, revision: 1 })
    t.same(await a.store.createIfAbsent('b: 1\n'), { ok: false, current: 1 }, 'create-if-absent never overwrites')
    t.match(await a.store.read(), { text: 'a: 1\n', revision: 1, external: false })
    t.same(await a.store.writeIfRevision('b: 2\n', 1), { ok: true, revision: 2 })
    t.same(await a.store.writeIfRevision('c: 3\n', 1), { ok: false, current: 2 }, 'a stale revision is a conflict')
    t.match(await a.store.read(), { text: 'b: 2\n', revision: 2, external: false })
    t.equal(a.store.sync.connected, true)
  })

  t.test('racing writers with the same expected revision: exactly one wins, every time', async t => {
    const cs = await clients(t, 3)
    const creates = await Promise.all(cs.map((c, i) => c.store.createIfAbsent(`seed: ${i}\n`)))
    t.equal(creates.filter(o => o.ok).length, 1, 'one replica seeds the store')
    for (let revision = 1; revision <= 8; revision++) {
      const outcomes = await Promise.all(cs.map((c, i) => c.store.writeIfRevision(`r: ${revision}-${i}\n`, revision)))
      t.equal(outcomes.filter(o => o.ok).length, 1, `revision ${revision}: one write wins`)
      t.same(outcomes.filter(o => !o.ok), outcomes.filter(o => !o.ok).map(() => ({ ok: false, current: revision + 1 })), 'the others learn the new revision')
    }
    t.match(await cs[0]?.store.read(), { revision: 9 })
  })

  t.test('rollouts: one document per route, compare-and-swap on the store\'s version, shared by every replica', async t => {
    const [a, b] = await clients(t, 2)
    if (a === undefined || b === undefined) throw new Error('no client')
    await rolloutStoreCases(t, new FleetRolloutStore(a.store.rollouts))
    // Another replica sees the same rollouts and versions; a write from one fences the other's stale version.
    const other = new FleetRolloutStore(b.store.rollouts)
    const seen = await other.get('web')
    t.same((await other.list()).map(s => s.state.route), ['api', 'web'], 'another replica lists the same rollouts')
    t.type(await other.put({ ...seen?.state, message: 'from b' } as RolloutState, seen?.version), 'string', 'it writes on the version it read')
    t.equal(await new FleetRolloutStore(a.store.rollouts).put({ ...seen?.state, message: 'late' } as RolloutState, seen?.version), undefined, 'the first replica\'s write on the old version loses')
    t.equal((await a.store.rollouts.get('web'))?.text.includes('from b'), true)
    // Route names need not be object names (uppercase, underscores): stored and listed under their own name.
    t.type(await other.put({ route: 'Web_2', message: 'x' } as unknown as RolloutState, undefined), 'string')
    t.same((await a.store.rollouts.list()).map(d => d.name).sort(), ['Web_2', 'api', 'web'])
    // A document edited by hand into something else: left out of list() (the other routes' rollouts go on), named.
    t.type(await a.store.rollouts.put('broken', '{"route":', undefined), 'string')
    const invalid: string[] = []
    t.same((await new FleetRolloutStore(a.store.rollouts, name => invalid.push(name)).list()).map(s => s.state.route).sort(), ['Web_2', 'api', 'web'], 'an unreadable rollout does not hide the others')
    t.same(invalid, ['broken'], 'and is reported by name')
    await t.rejects(other.get('broken'), /broken: not a rollout/, 'reading it alone says what is wrong')
  })

  t.test('watch: every change in order, and the rest after a disconnect', async t => {
    const { a, b, seen } = await watchedPair(t)
    for (let r = 1; r < 6; r++) t.ok((await a.store.writeIfRevision(`v: ${r + 1}\n`, r)).ok)
    await seen.until('revision 6', d => d?.revision === 6)
    b.cut()
    for (let r = 6; r < 9; r++) t.ok((await a.store.writeIfRevision(`v: ${r + 1}\n`, r)).ok)
    b.reopen()
    await seen.until('revision 9 after the disconnect', d => d?.revision === 9)
    t.same(seen.docs.map(d => d?.revision), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'each revision once, in order, none lost in the disconnect')
    t.same(seen.docs.map(d => d?.text), seen.docs.map(d => `v: ${d?.revision ?? 0}\n`))
    t.equal(b.store.sync.relists, 0, 'resumed, not relisted')
  })

  t.test('an edit made outside switchyard is seen, and adopted as the next revision', async t => {
    const [a] = await clients(t, 1)
    if (a === undefined) throw new Error('no client')
    const scope = `s${n}`
    await a.store.createIfAbsent('v: 1\n')
    const seen = record(a.store)
    t.teardown(seen.stop)
    await seen.until('revision 1', d => d?.revision === 1)
    await harness.editExternally(scope, 'v: by hand\n')
    await seen.until('the external edit', d => d?.external === true)
    t.match(seen.docs.at(-1), { text: 'v: by hand\n', revision: 1, external: true })
    t.same(await a.store.writeIfRevision('v: by hand\n', 1), { ok: true, revision: 2 })
    await seen.until('revision 2', d => d?.revision === 2)
    t.match(seen.docs.at(-1), { text: 'v: by hand\n', revision: 2, external: false })
  })

  t.test('history: the newest `limit` entries, the same from every replica', async t => {
    const [a, b] = await clients(t, 2)
    if (a === undefined || b === undefined) throw new Error('no client')
    t.same(await a.store.history(), [])
    for (let r = 1; r <= 7; r++) {
      // Both replicas record the same revision at once: it is kept once.
      await Promise.all([a.store.recordHistory(entry(r), 5), b.store.recordHistory(entry(r), 5)])
    }
    const fromA = await a.store.history()
    t.same(fromA.map(e => e.revision), [3, 4, 5, 6, 7])
    t.same(fromA, [3, 4, 5, 6, 7].map(entry), 'entries round-trip field by field')
    t.same(await b.store.history(), fromA, 'replica B reads the same history')
  })

  t.test('membership: replicas appear, update, and disappear with their leases', async t => {
    const [a, b, c] = await clients(t, 3)
    if (a === undefined || b === undefined || c === undefined) throw new Error('no client')
    const ra = a.store.register(member('alpha'))
    b.store.register(member('beta'))
    const rc = c.store.register(member('gamma'))
    const ids = async (): Promise<string[]> => (await a.store.members()).map(m => m.id).sort()
    await eventually('three members', async () => (await ids()).length === 3)
    t.same(await ids(), ['alpha', 'beta', 'gamma'])
    const synced = new Date(Date.UTC(2025, 5, 1))
    ra.update(7, synced)
    await eventually('alpha applies revision 7', async () => (await b.store.members()).some(m => m.id === 'alpha' && m.appliedRevision === 7))
    t.match((await c.store.members()).find(m => m.id === 'alpha'), { adminUrl: member('alpha').adminUrl, appliedRevision: 7, syncedAt: synced.toISOString() })
    await rc.close()
    t.same(await ids(), ['alpha', 'beta'], 'a replica that leaves is gone at once')
    await b.store.close()
    await eventually('the crashed replica expires', async () => (await ids()).length === 1, harness.leaseMs * 3 + LONG)
    t.same(await ids(), ['alpha'], 'a replica that stopped renewing is gone after its lease')
  })

  t.test('leader election: one leader, handed over when it stops or dies', async t => {
    const cs = await clients(t, 3)
    const leading = new Set<number>()
    let overlaps = 0
    let changed: () => void = () => {}
    const candidacies = cs.map((c, i) => c.store.campaign(`replica-${i}`, {
      started: () => { if (leading.size > 0) overlaps++; leading.add(i); changed() },
      stopped: () => { leading.delete(i); changed() }
    }))
    const leaderOther = (than: number | undefined): Promise<number> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no new leader in time')), harness.leaseMs * 3 + LONG)
      changed = () => {
        const [l] = [...leading]
        if (l !== undefined && l !== than) { clearTimeout(timer); resolve(l) }
      }
      changed()
    })
    const first = await leaderOther(undefined)
    t.equal(leading.size, 1, 'one leader')
    t.equal(candidacies.filter(c => c.leading).length, 1)
    await candidacies[first]?.stop()
    const second = await leaderOther(first)
    t.not(second, first, 'a stopped leader hands over')
    // Now the second leader's process dies: its lease runs out.
    await cs[second]?.store.close()
    const third = await leaderOther(second)
    t.not(third, first)
    t.not(third, second, 'a dead leader is replaced after its lease')
    t.equal(overlaps, 0, 'never two leaders at once in this process')
    await Promise.all(candidacies.map(c => c.stop()))
  })

  t.test('an outage: stale and still serving the last document, then caught up without a restart', async t => {
    const { a, b, seen } = await watchedPair(t)
    b.store.register(member('beta'))
    await eventually('b is registered', async () => (await a.store.members()).length === 1)
    await harness.outage()
    await eventually('b reports the store out of reach', () => !b.store.sync.connected)
    t.equal(seen.states.at(-1)?.connected, false, 'the watch says so')
    t.ok(typeof b.store.sync.error === 'string', 'with the reason')
    const lastSync = b.store.sync.lastSyncAt
    t.ok(lastSync !== undefined, 'and when it last synced')
    t.equal(seen.docs.at(-1)?.revision, 1, 'the last document stays')
    const failed = await a.store.read().then(() => undefined, (err: unknown) => err)
    t.ok(failed instanceof StoreError && failed.code === 'SY_ERR_STORE_UNAVAILABLE', 'a read during the outage is a coded error')
    await harness.recover()
    await eventually('b reconnects', () => b.store.sync.connected)
    t.ok((b.store.sync.lastSyncAt ?? 0) > (lastSync ?? 0), 'a newer confirmed sync')
    await eventually('a can write again', async () => (await a.store.writeIfRevision('v: 2\n', 1)).ok)
    await seen.until('revision 2 after the outage', d => d?.revision === 2)
    await eventually('b is a member again', async () => (await a.store.members()).some(m => m.id === 'beta'))
  })

  t.test('a watch that fell behind a compaction relists and lands on the newest document', async t => {
    const { a, b, seen } = await watchedPair(t)
    b.cut()
    for (let r = 1; r < 4; r++) t.ok((await a.store.writeIfRevision(`v: ${r + 1}\n`, r)).ok)
    await harness.compact()
    b.reopen()
    await seen.until('revision 4 after the relist', d => d?.revision === 4)
    t.equal(b.store.sync.relists, 1, 'one relist')
    t.match(seen.docs.at(-1), { text: 'v: 4\n', revision: 4 })
  })
}
