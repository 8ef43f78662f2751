/**
 * Issue 13's Done-when "the leader killed in the middle of a ramp", on a
 * real 3-member etcd and on the fake Kubernetes API server (npm run
 * test:fleet; needs dist/, built by the script): 3 replicas as real
 * `switchyard serve --store` processes with a 3 s lease, bounded load
 * through them, a rollout started on a follower with the CLI, the leader
 * killed with SIGKILL in the middle of the step. Another replica leads and
 * resumes the same step with the counts carried; every look's counts are
 * the exact sum of the live replicas' counters over the step (checked with
 * the load stopped, so that nothing is in flight between a look and the
 * replicas' readings). Then the rollout is promoted from a follower.
 *
 * By design a dead leader's looks are lost from its last look to its death,
 * and a new leader counts from its first look: this test stops the load
 * around the kill so that the sums can be exact; the report says how long
 * the step went unjudged.
 */
import t, { type Test } from 'tap'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { countersOf, type Arms } from '../../src/control/rollouts/readings.js'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import type { Counters } from '../../src/judge/counters.js'
import type { MetricsJson } from '../../src/link/link.js'
import { admin } from '../helpers/admin.js'
import { runCli, startCli } from '../helpers/cli.js'
import { etcdMissing } from '../helpers/etcd-cluster.js'
import { etcdHarness, fleetOnTwoBackends, kubeHarness, replicaConfig, until, type FleetHarness } from '../helpers/fleet.js'

const LEASE = '3s'
const ARMS: Arms = { route: 'web', canary: 'canary', baseline: 'stable' }
const LONG = 60_000

interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly lines: string[]
  readonly proxyUrl: string
  readonly adminUrl: string
}

async function startProcess (t: Test, h: FleetHarness, scope: string, name: string, routing: Record<string, unknown>): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), `switchyard-${name}-`))
  const config = join(dir, 'switchyard.yaml')
  await writeFile(config, replicaConfig(routing))
  const env = { ...h.env, POD_NAME: name, SWITCHYARD_STATE_DIR: dir, SWITCHYARD_LEASE_DURATION: LEASE, SWITCHYARD_STORE: undefined }
  const { child, lines, match } = await startCli(['serve', '--config', config, '--store', h.url(scope)], /"msg":"switchyard started"/, { env })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, admin: string }
  return { name, child, lines, proxyUrl: started.proxy, adminUrl: started.admin }
}

/** Bounded load: `n` requests spread over `targets`, `concurrency` at a time; resolves with how many were not 200. */
async function load (targets: readonly Proc[], n: number, concurrency = 8): Promise<number> {
  const pools = targets.map(p => new Pool(p.proxyUrl, { connections: concurrency }))
  let sent = 0
  let failed = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (sent < n) {
      const i = sent++
      try {
        const res = await (pools[i % pools.length] as Pool).request({ path: `/load/${i}`, method: 'GET' })
        await res.body.dump()
        if (res.statusCode !== 200) failed++
      } catch {
        failed++
      }
    }
  }))
  await Promise.all(pools.map(async p => await p.close()))
  return failed
}

async function rollout (p: Proc): Promise<RolloutState> {
  const res = await admin<RolloutState>(p.adminUrl, 'GET', '/admin/rollouts/web')
  if (res.status !== 200) throw new Error(`${p.name}: HTTP ${res.status} ${res.text}`)
  return res.body
}

async function countersOfProc (p: Proc): Promise<Counters> {
  const res = await admin<MetricsJson>(p.adminUrl, 'GET', '/admin/metrics')
  return countersOf(res.body, ARMS)
}

interface Sum { canary: { requests: number, errors: number }, baseline: { requests: number, errors: number } }
const sumOf = (cs: readonly Counters[]): Sum => ({
  canary: { requests: cs.reduce((a, c) => a + c.canary.requests, 0), errors: cs.reduce((a, c) => a + c.canary.errors, 0) },
  baseline: { requests: cs.reduce((a, c) => a + c.baseline.requests, 0), errors: cs.reduce((a, c) => a + c.baseline.errors, 0) }
})
const combine = (x: Sum, y: Sum, sign: 1 | -1): Sum => ({
  canary: { requests: x.canary.requests + sign * y.canary.requests, errors: x.canary.errors + sign * y.canary.errors },
  baseline: { requests: x.baseline.requests + sign * y.baseline.requests, errors: x.baseline.errors + sign * y.baseline.errors }
})
const minus = (x: Sum, y: Sum): Sum => combine(x, y, -1)
const plus = (x: Sum, y: Sum): Sum => combine(x, y, 1)
const countedOf = (s: RolloutState): Sum => ({
  canary: { requests: s.step.counted?.canary.requests ?? 0, errors: s.step.counted?.canary.errors ?? 0 },
  baseline: { requests: s.step.counted?.baseline.requests ?? 0, errors: s.step.counted?.baseline.errors ?? 0 }
})

/** Waits for two more looks after now: the second one certainly read the counters after everything before this call. */
async function lookedAfter (p: Proc): Promise<RolloutState> {
  let seen = (await rollout(p)).updatedAt
  for (let looks = 0; looks < 2; looks++) {
    const before = seen
    await until(`a look on ${p.name}'s view of the rollout`, async () => { seen = (await rollout(p)).updatedAt; return seen !== before }, LONG)
  }
  return await rollout(p)
}

async function leaderOf (procs: readonly Proc[]): Promise<string | null> {
  const res = await admin<{ leader: string | null }>(procs[0]?.adminUrl ?? '', 'GET', '/admin/status')
  return res.body.leader
}

function killToLeaderRollout (t: Test, makeHarness: () => Promise<FleetHarness>): void {
  t.test('the leader killed in the middle of a rollout step', async t => {
    const { h, routing } = await fleetOnTwoBackends(t, makeHarness, 0)
    const scope = `r${Date.now().toString(36)}`
    const procs = await Promise.all(['r1', 'r2', 'r3'].map(async n => await startProcess(t, h, scope, n, routing)))
    await until('one leader', async () => (await leaderOf(procs)) !== null, LONG)
    const leaderName = await leaderOf(procs)
    const leader = procs.find(p => p.name === leaderName)
    const followers = procs.filter(p => p !== leader)
    if (leader === undefined || followers.length !== 2) throw new Error(`no leader among ${procs.map(p => p.name).join(',')}: ${String(leaderName)}`)
    const [f1, f2] = followers as [Proc, Proc]

    // Started with the CLI on a follower; the steps never end by themselves here (min-step 10m).
    const started = await runCli(['rollout', 'start', 'web', 'canary', '--steps', '20,50,100', '--min-step', '10m', '--max-step', '20m', '--admin', f1.adminUrl, '--json'])
    t.equal(started.code, 0, `rollout start on follower ${f1.name}: ${started.stderr}`)
    // The leader's first look anchors the step (no traffic yet: every counter is 0).
    await lookedAfter(leader)
    const zero = sumOf(await Promise.all(procs.map(countersOfProc)))

    // Phase 1: load through all three, then stopped; the leader's count is every replica's requests.
    t.equal(await load(procs, 3000), 0, 'phase 1: 3000 requests through 3 replicas, none failed')
    const before = await lookedAfter(leader)
    const r1 = sumOf(await Promise.all(procs.map(countersOfProc)))
    t.same(countedOf(before), minus(r1, zero), 'the leader\'s count is the exact sum of the three replicas\' counters over the step')
    t.equal(before.step.index, 0)
    t.equal(before.phase, 'Progressing')

    // The leader dies mid-step.
    const survivors = [f1, f2]
    const atKill = sumOf(await Promise.all(survivors.map(countersOfProc)))
    const killedAt = Date.now()
    leader.child.kill('SIGKILL')
    let nextName: string | null = null
    await until('another replica leads', async () => { nextName = await leaderOf(survivors); return nextName !== null && nextName !== leader.name }, LONG)
    const ledAt = Date.now()
    const next = survivors.find(p => p.name === nextName)
    t.ok(next?.lines.some(l => l.includes('leading fleet-wide jobs')), `the new leader ${String(nextName)} logs that it leads`)
    await until('the new leader\'s first look', () => next?.lines.some(l => l.includes('rollout step resumed with its counts and evidence')) === true, LONG)
    const resumedLine = JSON.parse(next?.lines.find(l => l.includes('rollout step resumed with its counts and evidence')) ?? '{}') as { time: number, step: number }
    const resumed = await rollout(f2)
    t.equal(resumed.step.index, before.step.index, 'the new leader resumes the same step')
    t.equal(resumedLine.step, before.step.index + 1, 'its log names the step')
    t.equal(resumed.createdAt, before.createdAt, 'the same rollout')
    t.same(countedOf(resumed), countedOf(before), 'with the counts carried (no request since the last look)')
    t.comment(`[${h.name}] lease ${LEASE}: kill → new leader seen ${ledAt - killedAt} ms; kill → its first look ${resumedLine.time - killedAt} ms; step ${resumedLine.step} (${before.weight} %) resumed`)

    // Phase 2: load through the two survivors; the new leader's count adds exactly their requests.
    t.equal(await load(survivors, 2000), 0, 'phase 2: 2000 requests through the 2 survivors, none failed')
    const after = await lookedAfter(next ?? f1)
    const r2 = sumOf(await Promise.all(survivors.map(countersOfProc)))
    t.same(countedOf(after), plus(countedOf(before), minus(r2, atKill)), 'the step\'s count: what was counted before the kill plus exactly the survivors\' requests since')
    t.equal(after.step.index, before.step.index, 'still the same step')
    t.comment(`[${h.name}] step ${after.step.index + 1} judged on ${after.step.counted?.canary.requests ?? 0} canary + ${after.step.counted?.baseline.requests ?? 0} baseline requests: ${after.lastVerdict?.reason ?? ''}`)

    // Finished from the follower that is not the leader.
    const other = survivors.find(p => p !== next) ?? f1
    const promoted = await runCli(['rollout', 'promote', 'web', '--full', '--admin', other.adminUrl, '--json'])
    t.equal(promoted.code, 0, `rollout promote --full on ${other.name}: ${promoted.stderr}`)
    const done = await rollout(next ?? f1)
    t.equal(done.phase, 'Succeeded', 'the rollout finished, promoted')
    await until('both survivors serve the promoted weights', async () => (await Promise.all(survivors.map(async p => (await admin<{ revision: number }>(p.adminUrl, 'GET', '/admin/status')).body.revision))).every(r => r === done.revision), LONG)
    t.equal(await load(survivors, 200), 0)
    const final = sumOf(await Promise.all(survivors.map(countersOfProc)))
    t.equal(final.canary.requests - r2.canary.requests, 200, 'every request after the promotion goes to the canary')
  })
}

const missing = etcdMissing()
if (missing !== undefined) t.fail(`the fleet suite needs etcd: ${missing}`)
else killToLeaderRollout(t, etcdHarness)
killToLeaderRollout(t, kubeHarness)
