/**
 * Rollouts in a fleet, small enough for `npm test`: two replicas in this
 * process on the fake Kubernetes API server, looks driven by the test on an
 * injected clock, leadership handed over by the test. The rollout lives in
 * the store: a command on either replica acts on it, only the leader looks,
 * a new leader resumes the same step with its counts, a deposed leader's
 * late write loses. `npm run test:fleet` kills a leader process for real
 * (rollout.fleet.ts).
 */
import t from 'tap'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import { FleetRolloutStore } from '../../src/control/rollouts/store.js'
import type { CountersReader } from '../../src/control/rollouts/readings.js'
import { FleetCounters, fleetCountersReader } from '../../src/control/fleet-counters.js'
import type { Test } from 'tap'
import type { RoutingStore } from '../../src/fleet/store.js'
import { runCli } from '../helpers/cli.js'
import { fleetOnTwoBackends, kubeHarness, startReplica, until, type FleetHarness, type Replica } from '../helpers/fleet.js'
import { request } from 'undici'

const T0 = Date.UTC(2026, 0, 1)

async function send (r: Replica, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(`${r.sy.proxyUrl}/r/${i}`)
    await res.body.dump()
    if (res.statusCode !== 200) throw new Error(`${r.name}: HTTP ${res.statusCode}`)
  }
}

/** Requests the step has counted, both arms. */
const counted = (s: RolloutState): number => (s.step.counted?.canary.requests ?? 0) + (s.step.counted?.baseline.requests ?? 0)

/** Two replicas, A leading; `countersOfA` wraps what A's looks read (the fleet's counters, as a replica reads them). */
async function fleetOfTwo (t: Test, countersOfA?: (fleet: CountersReader) => CountersReader): Promise<{ a: Replica, b: Replica, lead: (name: string) => void, other: RoutingStore, h: FleetHarness }> {
  const { h, routing } = await fleetOnTwoBackends(t, kubeHarness, 0)
  // Another client of the same store: what the deposed leader's connection can still do.
  const other = h.open('rollouts')
  t.teardown(() => other.close())
  const clock = { now: T0 }
  let leader = 'A'
  const start = async (name: string): Promise<Replica> => await startReplica(h, 'rollouts', name, routing, undefined, {
    now: () => clock.now,
    tickMs: false,
    leadership: { isLeader: () => leader === name },
    ...(name === 'A' && countersOfA !== undefined ? { counters: countersOfA(fleetCountersReader(new FleetCounters({ members: async () => await other.members() }))) } : {})
  })
  const [a, b] = await Promise.all([start('A'), start('B')])
  t.teardown(() => Promise.all([a.close(), b.close()]))
  return { a, b, lead: name => { leader = name }, other, h }
}

t.test('a rollout lives in the fleet store: any replica commands it, the leader moves it, a new leader resumes its step', async t => {
  const { a, b, lead, other } = await fleetOfTwo(t)
  const started = await b.sy.rollouts.start({ route: 'web', canary: 'canary', steps: [20, 50, 100] })
  t.equal(started.phase, 'Progressing', 'started on a follower (B)')
  // Kept as JSON: fields that are undefined are absent.
  const json = JSON.parse(JSON.stringify(started)) as RolloutState
  t.same(await a.sy.rollouts.get('web'), json, 'the leader (A) reads the same rollout from the store')
  await until('A applies the step\'s revision', () => a.sy.live.current.revision === started.revision)

  await b.sy.rollouts.tick()
  t.same(await a.sy.rollouts.get('web'), json, 'a follower\'s tick does not look')
  await a.sy.rollouts.tick()
  const anchored = await a.sy.rollouts.get('web')
  t.equal(counted(anchored), 0, 'the leader\'s first look anchors the step')
  await send(a, 60)
  await send(b, 40)
  await a.sy.rollouts.tick()
  const looked = await a.sy.rollouts.get('web')
  t.equal(counted(looked), 100, 'the leader counts both replicas\' requests, exactly')
  t.ok((looked.step.counted?.canary.requests ?? 0) > 0 && (looked.step.counted?.baseline.requests ?? 0) > 0, 'both arms served')

  // A is deposed: B leads from here on. A's late write, conditioned on what it read, loses.
  const deposed = new FleetRolloutStore(other.rollouts)
  const stale = await deposed.get('web')
  lead('B')
  await a.sy.rollouts.tick()
  t.same(await b.sy.rollouts.get('web'), looked, 'the deposed leader does not look')
  // Served between the old leader's last look and the new leader's first: counted too (the members' marks are in the state).
  await send(a, 7)
  await send(b, 3)
  await b.sy.rollouts.tick()
  const resumed = await b.sy.rollouts.get('web')
  t.equal(resumed.step.index, looked.step.index, 'the new leader resumes the same step')
  t.equal(counted(resumed), 110, 'with the counts carried, and every request since the old leader\'s last look')
  const said = b.logs.map(l => JSON.parse(l) as { msg: string, rollout?: string, step?: number }).filter(l => l.msg === 'rollout step resumed with its counts and evidence')
  t.same(said.map(l => [l.rollout, l.step]), [['web', 1]], 'the new leader logs once that it took the step over')
  await send(a, 30)
  await send(b, 20)
  await b.sy.rollouts.tick()
  t.equal(counted(await b.sy.rollouts.get('web')), 160, 'the new leader adds every replica\'s requests since it took over')
  t.equal(await deposed.put({ ...looked, message: 'late' }, stale?.version), undefined, 'a write on the version the deposed leader read loses')
  t.equal(counted(await b.sy.rollouts.get('web')), 160, 'and changes nothing')

  // Commands on the follower (now A) act on the shared state.
  t.equal((await a.sy.rollouts.pause('web')).phase, 'Paused', 'pause on a follower')
  t.equal((await b.sy.rollouts.get('web')).phase, 'Paused', 'the leader sees it')
  t.equal((await a.sy.rollouts.resume('web')).phase, 'Progressing', 'resume on a follower')
  const done = await a.sy.rollouts.promote('web', true)
  t.equal(done.phase, 'Succeeded', 'promote --full on a follower')
  await until('both replicas route all to the canary', () => [a, b].every(r => r.sy.live.current.revision === done.revision))
  for (const r of [a, b]) t.same(r.sy.live.current.table.config.routes[0]?.split, { stable: 0, canary: 100 }, `${r.name} serves the promoted weights`)
})


t.test('the CLI acts on the rollouts in the store with --store, no replica asked', async t => {
  const { a, b, h } = await fleetOfTwo(t)
  const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await runCli(['rollout', ...args, '--store', h.url('rollouts')], { env: h.env })
  const started = await cli('start', 'web', 'canary', '--steps', '10,100', '--json')
  t.equal(started.code, 0, started.stderr)
  t.equal((JSON.parse(started.stdout) as RolloutState).weight, 10)
  t.equal((await a.sy.rollouts.get('web')).phase, 'Progressing', 'the replicas see the rollout the CLI started')
  await until('both replicas apply the step', () => [a, b].every(r => r.sy.live.current.table.config.routes[0]?.split?.canary === 10))
  t.equal((await cli('pause', 'web')).code, 0)
  t.equal((await b.sy.rollouts.get('web')).phase, 'Paused', 'paused in the store')
  const status = await cli('status', 'web', '--json')
  t.equal((JSON.parse(status.stdout) as RolloutState).pauseReason, 'manual', 'status reads the store')
  const aborted = await cli('abort', 'web')
  t.equal(aborted.code, 0, aborted.stderr)
  await until('both replicas restore the weights', () => [a, b].every(r => r.sy.live.current.table.config.routes[0]?.split?.canary === 0))
  t.equal((await a.sy.rollouts.get('web')).phase, 'Aborted')
  const refused = await cli('resume', 'web')
  t.equal(refused.code, 1, 'a command the phase does not allow is refused')
  t.match(refused.stderr, /SY_ERR_ROLLOUT_PHASE/)
})

t.test('with no live replica, `rollout start --store` fails with a coded error and writes nothing', async t => {
  const { a, b, h, other } = await fleetOfTwo(t)
  const revision = a.sy.live.current.revision
  // A clean stop deletes a replica's member Lease: the store lists none.
  await Promise.all([a.close(), b.close()])
  t.same(await other.members(), [], 'no member listed')
  const started = await runCli(['rollout', 'start', 'web', 'canary', '--steps', '10,100', '--store', h.url('rollouts')], { env: h.env })
  t.equal(started.code, 1)
  t.match(started.stderr, /no live replica in the store to read counters from \[SY_ERR_FLEET_COUNTERS\]/)
  t.equal((await other.read())?.revision, revision, 'the routing is not changed')
  t.same(await other.rollouts.list(), [], 'no rollout is stored')
})

t.test('a look that decided while a command changed the rollout writes no weights: routing and rollout stay together', async t => {
  // While `held.gate` is set, A's read of the counters waits for it, and then shows a canary failing every request.
  const held: { gate?: Promise<void> } = {}
  let entered: () => void = () => {}
  const inRead = new Promise<void>(resolve => { entered = resolve })
  const { a, b, other } = await fleetOfTwo(t, fleet => ({
    read: async arms => await fleet.read(arms),
    readMembers: async arms => {
      const members = await (fleet.readMembers as NonNullable<CountersReader['readMembers']>)(arms)
      if (held.gate === undefined) return members
      entered()
      await held.gate
      return new Map([...members].map(([id, c]) => [id, { ...c, canary: { ...c.canary, errors: c.canary.requests } }]))
    }
  }))
  const started = await b.sy.rollouts.start({ route: 'web', canary: 'canary', steps: [20, 100] })
  await until('A applies the step', () => a.sy.live.current.revision === started.revision)
  await a.sy.rollouts.tick()
  await send(a, 200)
  let open: () => void = () => {}
  held.gate = new Promise<void>(resolve => { open = resolve })
  const look = a.sy.rollouts.tick()
  await inRead
  // A's look is inside its read; meanwhile an operator pauses the rollout on B.
  t.equal((await b.sy.rollouts.pause('web')).phase, 'Paused', 'paused on B during A\'s look')
  open()
  await look
  t.ok(a.logs.some(l => l.includes('"msg":"rollout decision"') && l.includes('"action":"abort"')), 'A\'s look decided to abort')
  t.ok(a.logs.some(l => l.includes('rollout look failed') && l.includes('SY_ERR_ROLLOUT_CONFLICT')), 'and found the rollout changed: a conflict, logged')
  t.match(await b.sy.rollouts.get('web'), { phase: 'Paused', pauseReason: 'manual', weight: 20 }, 'the rollout is as the operator left it')
  t.equal((await other.read())?.revision, started.revision, 'no revision written since the step\'s')
  for (const r of [a, b]) t.equal(r.sy.live.current.table.config.routes[0]?.split?.canary, 20, `${r.name} still routes 20 % to the canary: the look wrote no weights`)
})
