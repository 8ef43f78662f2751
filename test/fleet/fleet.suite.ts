/**
 * Issue 13's "Done when", one suite for every store (run unchanged against
 * a real 3-member etcd and the fake Kubernetes API server): replicas of
 * switchyard on one store, under bounded load through all of them, while
 * - an edit on one replica goes live on all (convergence printed: median
 *   and max from the edit's reply to the last replica applying it);
 * - two edits with the same If-Match on two replicas: exactly one 412;
 * - one part of the store breaks (an etcd member killed): edits still work;
 * - the whole store goes away: every replica keeps serving the last
 *   revision (0 failed requests), stays ready, reports stale; a replica
 *   restarted meanwhile starts from its local copy and says so; the store
 *   back, all catch up without a restart;
 * - history and undo answer the same from every replica; `status` lists
 *   the live replicas; one leader; the fleet counters sum every replica;
 * - the CLI's `--store` edits the fleet with no replica involved.
 * fleet-wiring.test.ts runs it small (npm test); *.fleet.ts at full size
 * (npm run test:fleet). No timing is asserted: the numbers are printed.
 */
import type { Test } from 'tap'
import { Pool } from 'undici'
import { admin } from '../helpers/admin.js'
import { runCli } from '../helpers/cli.js'
import { fleetOnTwoBackends, startReplica, until, type FleetHarness, type Replica } from '../helpers/fleet.js'
import { stringify } from 'yaml'
import type { FleetStatus } from '../../src/admin/status.js'

export interface FleetSuiteOptions {
  readonly replicas: number
  /** set-weight edits whose convergence is measured. */
  readonly edits: number
  /** Requests sent through the replicas at least (the load runs until the scenario is over and this many were sent). */
  readonly minRequests: number
  readonly concurrency: number
}

interface Load {
  sent: number
  ok: number
  failures: string[]
  /** Takes a proxy out of the rotation, its requests in flight answered (a pod leaving its Service's endpoints). */
  retire: (origin: string) => Promise<void>
  stop: () => Promise<void>
}

/** GETs through the replicas in turn, `concurrency` at a time, until stopped with at least `min` sent (bounded: never more than 10 × min). */
function startLoad (targets: () => readonly string[], min: number, concurrency: number): Load {
  const pools = new Map<string, Pool>()
  const pool = (origin: string): Pool => {
    let p = pools.get(origin)
    if (p === undefined) pools.set(origin, p = new Pool(origin, { connections: 8, keepAliveTimeout: 10_000 }))
    return p
  }
  let stopping = false
  let turn = 0
  const load: Load = {
    sent: 0,
    ok: 0,
    failures: [],
    retire: async origin => {
      const p = pools.get(origin)
      pools.delete(origin)
      await p?.close()
    },
    stop: async () => {}
  }
  const worker = async (): Promise<void> => {
    while ((!stopping || load.sent < min) && load.sent < 10 * min) {
      const all = targets()
      const origin = all[turn++ % all.length] ?? ''
      load.sent++
      try {
        const res = await pool(origin).request({ path: `/load/${load.sent}`, method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 })
        await res.body.text()
        if (res.statusCode === 200) load.ok++
        else if (load.failures.length < 20) load.failures.push(`${origin}: HTTP ${res.statusCode}`)
      } catch (err) {
        if (load.failures.length < 20) load.failures.push(`${origin}: ${(err as Error).message}`)
      }
    }
  }
  const workers = Array.from({ length: concurrency }, worker)
  load.stop = async () => {
    stopping = true
    await Promise.all(workers)
    await Promise.all([...pools.values()].map(async p => await p.close()))
  }
  return load
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] ?? 0 : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2
}

type StatusBody = FleetStatus & { revision: number }

export function fleetSuite (t: Test, makeHarness: () => Promise<FleetHarness>, opts: FleetSuiteOptions): void {
  t.test(`${opts.replicas} replicas on one store`, async t => {
    const { h, routing } = await fleetOnTwoBackends(t, makeHarness, 10)
    const scope = `s${Date.now().toString(36)}`
    const names = Array.from({ length: opts.replicas }, (_, i) => String.fromCharCode(65 + i))
    // Started together: they race to seed the empty store, and exactly one creates revision 1.
    const replicas: Replica[] = await Promise.all(names.map(async n => await startReplica(h, scope, n, routing)))
    t.teardown(() => Promise.all(replicas.map(async r => await r.close())))
    t.same(replicas.map(r => r.sy.live.current.revision), names.map(() => 1), 'every replica starts on revision 1 (one seeded, none fought)')

    const load = startLoad(() => replicas.map(r => r.sy.proxyUrl), opts.minRequests, opts.concurrency)
    const at = (r: Replica): number => r.sy.live.current.revision
    const allAt = async (what: string, revision: number): Promise<void> => {
      await until(`${what}: every replica at revision ${revision} (now ${replicas.map(at).join(',')})`, () => replicas.every(r => at(r) >= revision))
      t.same(replicas.map(at), replicas.map(() => revision), `${what}: every replica serves revision ${revision}`)
    }
    const [a, b] = replicas as [Replica, Replica, ...Replica[]]
    const setWeight = async (r: Replica, canary: number, ifMatch?: string) =>
      await admin<{ revision: number }>(r.sy.adminUrl, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary } }, headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } })

    // Convergence: from the edit's reply to the last replica applying it.
    // (Often 0: the other replicas' watches deliver the revision while the editing one still records it in the history.)
    const convergence: number[] = []
    const endToEnd: number[] = []
    for (let i = 0; i < opts.edits; i++) {
      const sentAt = Date.now()
      const res = await setWeight(a, 11 + i)
      const repliedAt = Date.now()
      if (res.status !== 200) { t.fail(`edit ${i}: HTTP ${res.status} ${res.text}`); break }
      const revision = res.body.revision
      await until(`edit ${i} everywhere`, () => replicas.every(r => r.appliedAt.has(revision)))
      const lastApplied = Math.max(...replicas.map(r => r.appliedAt.get(revision) ?? repliedAt))
      convergence.push(Math.max(0, lastApplied - repliedAt))
      endToEnd.push(lastApplied - sentAt)
    }
    t.equal(convergence.length, opts.edits, `${opts.edits} edits on ${a.name} went live on every replica`)
    t.comment(`[${h.name}] convergence over ${convergence.length} edits, from the edit's reply to the last replica applying it: median ${median(convergence)} ms, max ${Math.max(...convergence)} ms` +
      ` (from the edit's request: median ${median(endToEnd)} ms, max ${Math.max(...endToEnd)} ms)`)
    await allAt('after the edits', 1 + opts.edits)

    // Two edits with the same If-Match, on two replicas at once: one wins, one is refused.
    const etag = (await admin(a.sy.adminUrl, 'GET', '/admin/status')).etag ?? ''
    const race = await Promise.all([setWeight(a, 40, etag), setWeight(b, 60, etag)])
    t.same(race.map(r => r.status).sort(), [200, 412], 'same If-Match on two replicas: exactly one applies, the other gets 412')
    const won = race.find(r => r.status === 200)?.body.revision ?? 0
    await allAt('after the race', won)

    // One part of the store breaks: edits still work and go everywhere.
    await h.disruptOne()
    const during = await setWeight(b, 7)
    t.equal(during.status, 200, `an edit while ${h.name === 'etcd' ? 'one etcd member is dead' : 'every watch was dropped'}`)
    await allAt('with the store partly broken', during.body.revision)
    await h.repairOne()

    // The fleet view: every live replica with its revision; one leader.
    await until('every member registered at the current revision', async () => {
      const s = (await admin<StatusBody>(b.sy.adminUrl, 'GET', '/admin/status')).body
      return s.replicas?.length === replicas.length && s.replicas.every(m => m.revision === during.body.revision)
    })
    const status = (await admin<StatusBody>(b.sy.adminUrl, 'GET', '/admin/status')).body
    t.same(status.replicas?.map(m => [m.id, m.revision, m.adminUrl]), replicas.map(r => [r.name, during.body.revision, r.sy.adminUrl]).sort(), 'status lists every replica, its revision and admin URL')
    await until('one leader', () => replicas.filter(r => r.sy.fleet.leadership.isLeader).length === 1)
    const leader = replicas.find(r => r.sy.fleet.leadership.isLeader)
    t.ok(leader, 'exactly one replica leads')
    const printed = await runCli(['status', '--admin', a.sy.adminUrl])
    t.match(printed.stdout, new RegExp(`replicas \\(leader ${leader?.name ?? '?'}\\)`), '`switchyard status` names the leader')
    for (const r of replicas) t.match(printed.stdout, new RegExp(`\\n  ${r.name}( \\*)? +revision ${during.body.revision} `), `\`switchyard status\` lists replica ${r.name}`)

    // The fleet counters: the leader's reading sums every replica's requests.
    const requests = async (r: Replica): Promise<number> => {
      const json = await r.sy.registry.getMetricsAsJSON()
      return json.find(m => m.name === 'switchyard_requests_total')?.values.reduce((n, v) => n + v.value, 0) ?? 0
    }
    const before = (await Promise.all(replicas.map(requests))).reduce((x, y) => x + y, 0)
    const reading = await leader?.sy.fleet.counters.read()
    const after = (await Promise.all(replicas.map(requests))).reduce((x, y) => x + y, 0)
    const summed = reading?.metrics.find(m => m.name === 'switchyard_requests_total')?.values.reduce((n, v) => n + v.value, 0) ?? -1
    t.same([reading?.members.length, reading?.missing], [replicas.length, []], 'the fleet counters read every live replica')
    t.ok(summed >= before && summed <= after, `the fleet counters sum every replica's requests (${before} ≤ ${summed} ≤ ${after})`)

    // History and undo: the same answer from every replica.
    const history = async (r: Replica): Promise<unknown> => (await admin<{ entries: unknown[] }>(r.sy.adminUrl, 'GET', '/admin/history')).body.entries
    const histories = await Promise.all(replicas.map(history))
    t.ok(histories.every(x => JSON.stringify(x) === JSON.stringify(histories[0])), 'history: the same entries from every replica')
    const undoTo = during.body.revision - 2
    const undo = await admin<{ revision: number, summary: string }>(b.sy.adminUrl, 'POST', '/admin/undo', { body: { toRevision: undoTo } })
    t.equal(undo.status, 200, `undo to revision ${undoTo} on ${b.name}`)
    t.match(undo.body.summary, `undo to revision ${undoTo}: `)
    await allAt('after the undo', undo.body.revision)
    const afterUndo = await Promise.all(replicas.map(history))
    t.ok(afterUndo.every(x => JSON.stringify(x) === JSON.stringify(afterUndo[0])), 'history after the undo: the same from every replica')
    t.match(JSON.stringify(afterUndo[0]), `undo to revision ${undoTo}`, 'the undo is in the shared history, with its summary')

    // An edit outside switchyard (kubectl edit, etcdctl put): validated, then adopted as the next revision, once.
    const outside = stringify({ ...routing, routes: [{ name: 'web', split: { stable: 67, canary: 33 } }] })
    await h.editExternally(scope, outside)
    const adopted = undo.body.revision + 1
    await allAt('after an edit outside switchyard', adopted)
    const adoptedEntries = ((await admin<{ entries: Array<{ revision: number, summary: string }> }>(a.sy.adminUrl, 'GET', '/admin/history')).body.entries).filter(e => e.revision === adopted)
    t.match(adoptedEntries, [{ summary: /^edited in the store outside switchyard: web: .*canary \d+→33/ }], 'adopted by one replica, recorded once')
    t.equal(adoptedEntries.length, 1)
    // An invalid one is rejected everywhere; the last good revision keeps serving.
    await h.editExternally(scope, 'routes: []\n')
    for (const r of replicas) {
      await until(`${r.name} rejects the invalid outside edit`, async () => (await admin<{ lastReloadError: unknown }>(r.sy.adminUrl, 'GET', '/admin/status')).body.lastReloadError !== null)
    }
    t.same(replicas.map(at), replicas.map(() => adopted), 'an invalid outside edit changes nothing')
    const repaired = await setWeight(a, 6)
    t.equal(repaired.status, 200, 'an edit through switchyard replaces the invalid text')
    await allAt('after the repair', repaired.body.revision)

    // The CLI on the store itself, with no replica involved: every replica applies it.
    const cli = await runCli(['set-weight', 'web', 'canary=5', '--store', h.url(scope)], { env: h.env })
    t.equal(cli.code, 0, `set-weight --store: ${cli.stderr}`)
    const last = repaired.body.revision + 1
    t.match(cli.stdout, `revision ${last}: web: `, 'the CLI reports the revision it wrote')
    await allAt('after set-weight --store', last)

    // The whole store goes away: serve the last revision, stay ready, report stale.
    await h.outage()
    for (const r of replicas) {
      await until(`${r.name} reports stale`, async () => (await admin<StatusBody>(r.sy.adminUrl, 'GET', '/admin/status')).body.store.stale)
    }
    const readiness = await Promise.all(replicas.map(async r => (await admin(r.sy.adminUrl, 'GET', '/readyz')).status))
    t.same(readiness, replicas.map(() => 200), 'readiness stays green while the store is out of reach')
    const metrics = await Promise.all(replicas.map(async r => (await admin(r.sy.adminUrl, 'GET', '/metrics')).text))
    t.ok(metrics.every(m => /\nswitchyard_config_store_connected 0\n/.test(m) && new RegExp(`switchyard_config_info\\{revision="${last}"`).test(m)),
      'the metrics say stale (store_connected 0) and the revision served')
    t.ok(replicas.every(r => r.logs.some(l => l.includes('"level":40') && l.includes('routing store out of reach'))), 'each replica logged a warning that it is stale')
    const refused = await setWeight(a, 50)
    t.equal(refused.status, 503, 'an edit while the store is out of reach is refused (503), not applied on one replica')
    t.same(replicas.map(at), replicas.map(() => last), 'every replica still serves the last revision')

    // A replica restarted meanwhile starts from the revision it saved locally, and says so.
    const c = replicas.pop() as Replica
    await load.retire(c.sy.proxyUrl)
    await c.close()
    const c2 = await startReplica(h, scope, c.name, routing, c.dir)
    replicas.push(c2)
    const c2status = (await admin<StatusBody>(c2.sy.adminUrl, 'GET', '/admin/status')).body
    t.same([c2status.revision, c2status.store.startedFromLocalCopy?.revision, c2status.store.stale], [last, last, true], 'restarted while the store is down: it serves the revision saved locally and says so')
    t.ok(c2.logs.some(l => l.includes('started from the revision saved locally')), 'and logs it')

    // The store back: everyone catches up without a restart.
    await h.recover()
    for (const r of replicas) {
      await until(`${r.name} connected again`, async () => !(await admin<StatusBody>(r.sy.adminUrl, 'GET', '/admin/status')).body.store.stale, 60_000)
    }
    const back = await setWeight(c2, 20)
    t.equal(back.status, 200, 'edits work again once the store is back')
    await allAt('after the store came back', back.body.revision)

    await load.stop()
    t.comment(`[${h.name}] load: ${load.sent} requests through ${opts.replicas} replicas, ${load.failures.length} failed`)
    t.ok(load.sent >= opts.minRequests, `at least ${opts.minRequests} requests (${load.sent})`)
    t.same(load.failures, [], '0 failed requests through edits, races, a broken store member and a whole-store outage')
    t.equal(load.ok, load.sent)
  })
}
