/**
 * Rollouts through a real switchyard with real backends on 127.0.0.1 and
 * seeded traffic; the test moves the controller's clock and drives its
 * looks (test/helpers/rollout-rig.ts). Each case is one seeded run; the
 * batteries over many seeds are test/rollouts/battery.rollouts.ts.
 */
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { pino, type Logger } from 'pino'
import { SwitchyardError } from '../../src/errors.js'
import { admin } from '../helpers/admin.js'
import { scrape } from '../helpers/exposition.js'
import { drive, ROUTE, startRig, startSeededBackend, type Rig } from '../helpers/rollout-rig.js'
import type { RolloutState } from '../../src/control/rollouts/model.js'

/** What the tests judge with: the judge's defaults, with a 2 % absolute tolerance so a healthy step passes in hundreds of requests. */
export const JUDGE = { errors: { tolerance: 0.02 }, latency: { tolerance: 0.02 } }
export const BASELINE = { errorRate: 0.005, slowShare: 0.05, slowMs: 30 }
const LOOK = { perLook: 200, lookMs: 5000, maxLooks: 200 }

async function weights (rig: Rig): Promise<Record<string, number>> {
  const config = parse(await readFile(rig.p.configPath, 'utf8')) as { routes: Array<{ split: Record<string, number> }> }
  return config.routes[0]?.split ?? {}
}

async function history (rig: Rig): Promise<Array<{ source: string, summary: string }>> {
  return (await admin<{ entries: Array<{ source: string, summary: string }> }>(rig.p.sy.admin, 'GET', '/admin/history')).body.entries
}

async function started (t: Test, canary = BASELINE, seed = 7, extra: Partial<Parameters<Rig['p']['sy']['rollouts']['start']>[0]> = {}, stable = BASELINE, logger?: Logger): Promise<Rig> {
  const rig = await startRig({ seed, stable, canary, logger })
  t.teardown(() => rig.close())
  // The baseline's durations before the rollout set the first step's latency threshold (its p99): enough
  // requests that the few slow first ones of a fresh process (connections, JIT) stay under 1 %.
  await rig.send(stable.slowMs === BASELINE.slowMs ? 400 : 2000)
  await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [25, 50, 100], judge: JUDGE, ...extra })
  return rig
}

t.test('a healthy canary is promoted to 100 %, each step a revision in history', async t => {
  const rig = await started(t)
  const { state } = await drive(rig, LOOK)
  t.equal(state.phase, 'Succeeded', state.message)
  t.equal(state.weight, 100)
  t.same(state.decisions.map(d => [d.step, d.weight, d.outcome, d.rule, d.action]), [[1, 25, 'pass', 'no-worse', 'advance'], [2, 50, 'pass', 'no-worse', 'advance']])
  t.same(await weights(rig), { stable: 0, canary: 100 })
  const h = await history(rig)
  t.same(h.slice(1).map(e => [e.source, e.summary]), [
    ['rollout', 'rollout web: step 1/3: web: stable 100→75, canary 0→25'],
    ['rollout', 'rollout web: step 2/3: web: stable 75→50, canary 25→50'],
    ['rollout', 'rollout web: promoted: web: stable 50→0, canary 50→100']
  ])
  const m = await scrape(rig.p.sy.adminUrl)
  t.equal(m.value('switchyard_rollout_phase', { route: ROUTE, phase: 'Succeeded' }), 1)
  t.equal(m.value('switchyard_rollout_phase', { route: ROUTE, phase: 'Progressing' }), 0)
  t.equal(m.value('switchyard_rollout_step', { route: ROUTE }), 3)
  t.equal(m.value('switchyard_rollout_weight', { route: ROUTE, backend: 'canary' }), 100)
  t.equal(m.value('switchyard_rollout_judgements_total', { route: ROUTE, outcome: 'pass' }), 2)
})

t.test('a canary at 2.5 % errors against 0.5 % is rolled back at its first step', async t => {
  const logs: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>) } })
  const rig = await started(t, { ...BASELINE, errorRate: 0.025 }, 7, {}, BASELINE, logger)
  const { state } = await drive(rig, LOOK)
  const decisions = logs.filter(l => l.msg === 'rollout decision')
  t.equal(decisions.length, 1, 'one log line per decision')
  t.match(decisions[0], { rollout: ROUTE, step: 1, weight: 25, outcome: 'worse', rule: 'errors-worse', action: 'abort', canary: { requests: Number, errors: Number }, alpha: 0.05, errorsP: Number, reason: state.lastVerdict?.reason })
  t.equal(state.phase, 'Aborted', state.message)
  t.equal(state.abortReason, 'worse')
  t.equal(state.step.index, 0, 'at the first step')
  t.equal(state.decisions.at(-1)?.rule, 'errors-worse')
  t.ok(state.lastVerdict?.errors.worse.rejected)
  t.same(await weights(rig), { stable: 100, canary: 0 }, 'the starting weights are back')
  t.match((await history(rig)).at(-1), { source: 'rollout', summary: 'rollout web: aborted: web: stable 75→100, canary 25→0' })
  t.equal((await scrape(rig.p.sy.adminUrl)).value('switchyard_rollout_judgements_total', { route: ROUTE, outcome: 'worse' }), 1)
})

t.test('a canary whose slowest 5 % take 3× longer is rolled back at its first step', async t => {
  // Slow answers of 300 ms against 900 ms: the baseline's p99 rounds up to the 500 ms bound, far from either
  // (and from the scheduling delays of a loaded machine).
  const rig = await started(t, { ...BASELINE, slowMs: 900 }, 7, {}, { ...BASELINE, slowMs: 300 })
  const { state } = await drive(rig, LOOK)
  t.equal(state.phase, 'Aborted', state.message)
  t.equal(state.step.index, 0)
  t.equal(state.decisions.at(-1)?.rule, 'latency-worse')
  t.equal(state.lastVerdict?.threshold?.seconds, 0.5, 'slow: over the bucket bound above the baseline\'s p99 (its 300 ms answers)')
  t.same(await weights(rig), { stable: 100, canary: 0 })
})

t.test('at 0.2 requests per second the step pauses as inconclusive at max-step, and is not rolled back', async t => {
  const rig = await started(t)
  // One request per 5 s look: 0.2 rps.
  const { state, looks } = await drive(rig, { perLook: 1, lookMs: 5000, maxLooks: 200 })
  t.equal(state.phase, 'Paused', state.message)
  t.equal(state.pauseReason, 'inconclusive')
  t.equal(looks, 120, '10 minutes of looks')
  t.equal(state.decisions.at(-1)?.outcome, 'inconclusive-timeout')
  t.match(state.message, /inconclusive after 10m \(max-step 10m\): canary has \d+ of 100 requests/)
  t.equal(state.weight, 25)
  t.same(await weights(rig), { stable: 75, canary: 25 }, 'the canary keeps its weight')
  t.equal((await scrape(rig.p.sy.adminUrl)).value('switchyard_rollout_judgements_total', { route: ROUTE, outcome: 'inconclusive-timeout' }), 1)
})

t.test('pause stops the looks; resume continues the same step, the paused time not counted', async t => {
  const rig = await started(t)
  await drive(rig, { ...LOOK, maxLooks: 3 })
  const before = await rig.state()
  const paused = await rig.p.sy.rollouts.pause(ROUTE)
  t.match(paused, { phase: 'Paused', pauseReason: 'manual' })
  await rig.send(200)
  for (let i = 0; i < 5; i++) await rig.look(60_000)
  const still = await rig.state()
  t.same(still.step, before.step, 'no look while paused')
  const resumed = await rig.p.sy.rollouts.resume(ROUTE)
  t.equal(resumed.phase, 'Progressing')
  t.equal(resumed.step.index, 0)
  t.equal(resumed.step.pausedMs, 300_000)
  const next = await rig.look(5000)
  t.equal(next.lastVerdict?.exposure.elapsedMs, 20_000, 'three looks before, one after: 20 s of the step')
  await t.rejects(rig.p.sy.rollouts.resume(ROUTE), { code: 'SY_ERR_ROLLOUT_PHASE' })
})

t.test('a manual gate waits for resume after its step passes', async t => {
  const rig = await started(t, BASELINE, 7, { pauseAt: [25] })
  const { state } = await drive(rig, LOOK)
  t.match(state, { phase: 'Paused', pauseReason: 'gate', weight: 25 })
  t.match(state.message, /^paused at the manual gate after 25 %/)
  for (let i = 0; i < 3; i++) await rig.look(5000)
  t.equal((await rig.state()).phase, 'Paused', 'the gate holds')
  const resumed = await rig.p.sy.rollouts.resume(ROUTE)
  t.match(resumed, { phase: 'Progressing', weight: 50, step: { index: 1 } })
  t.same(await weights(rig), { stable: 50, canary: 50 })
  t.equal((await drive(rig, LOOK)).state.phase, 'Succeeded')
})

t.test('promote skips the current step; promote --full finishes at once', async t => {
  const rig = await started(t, BASELINE, 7, { steps: [10, 25, 50, 100] })
  const one = await rig.p.sy.rollouts.promote(ROUTE, false)
  t.match(one, { phase: 'Progressing', weight: 25, step: { index: 1 } })
  t.same(await weights(rig), { stable: 75, canary: 25 })
  const full = await rig.p.sy.rollouts.promote(ROUTE, true)
  t.match(full, { phase: 'Succeeded', weight: 100 })
  t.same(await weights(rig), { stable: 0, canary: 100 })
  await t.rejects(rig.p.sy.rollouts.abort(ROUTE), { code: 'SY_ERR_ROLLOUT_PHASE' }, 'an ended rollout cannot be aborted')
})

t.test('abort restores the starting weights', async t => {
  const rig = await started(t)
  await drive(rig, { ...LOOK, maxLooks: 2 })
  const aborted = await rig.p.sy.rollouts.abort(ROUTE)
  t.match(aborted, { phase: 'Aborted', abortReason: 'manual', weight: 0 })
  t.same(await weights(rig), { stable: 100, canary: 0 })
  // The route is free for the next rollout.
  const again = await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [50] })
  t.match(again, { phase: 'Progressing', weight: 50 })
})

t.test('someone else\'s edit of the route pauses the rollout and says why; resume sets the step again', async t => {
  const rig = await started(t)
  await drive(rig, { ...LOOK, maxLooks: 2 })
  const edit = await rig.p.sy.operations.setWeights(ROUTE, { canary: 40 }, { origin: 'api' })
  const state = await rig.look(5000)
  t.match(state, { phase: 'Paused', pauseReason: 'edited', weight: 25 })
  t.equal(state.message, `paused: route web was changed by revision ${edit.revision} (api: web: stable 75→60, canary 25→40), not by the rollout; \`rollout resume\` sets the step's weights again, \`rollout abort\` restores the start`)
  t.same(await weights(rig), { stable: 60, canary: 40 }, 'their change stands')
  const resumed = await rig.p.sy.rollouts.resume(ROUTE)
  t.match(resumed, { phase: 'Progressing', weight: 25, step: { index: 0, counted: undefined } })
  t.same(await weights(rig), { stable: 75, canary: 25 })
  t.equal((await drive(rig, LOOK)).state.phase, 'Succeeded')
})

t.test('an edit of another route does not disturb the rollout', async t => {
  const rig = await startRig({
    seed: 3,
    stable: BASELINE,
    canary: BASELINE,
    config: (stable, canary) => ({
      backends: { stable: { targets: [stable] }, canary: { targets: [canary] } },
      routes: [{ name: 'api', match: { path: { prefix: '/api' } }, split: { stable: 100, canary: 0 } }, { name: ROUTE, split: { stable: 100, canary: 0 } }]
    })
  })
  t.teardown(() => rig.close())
  await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [25, 100], judge: JUDGE })
  await rig.p.sy.operations.setWeights('api', { canary: 5 }, { origin: 'api' })
  const state = await rig.look(5000)
  t.equal(state.phase, 'Progressing', state.message)
  t.equal((await drive(rig, LOOK)).state.phase, 'Succeeded')
})

t.test('a restart in the middle of a step resumes the same step with its counts and evidence', async t => {
  const rig = await started(t)
  const { state: before } = await drive(rig, { ...LOOK, maxLooks: 4 })
  t.equal(before.phase, 'Progressing')
  await rig.stop()
  const text = await readFile(rig.p.configPath, 'utf8')
  const again = await startRig({ seed: 8, stable: BASELINE, canary: BASELINE, backends: { stable: rig.stable, canary: rig.canary }, dir: rig.p.dir, clock: rig.clock, configText: text })
  t.teardown(() => again.close())
  const resumed = await again.state()
  t.same(resumed.step, before.step, 'the stored step: index, start, threshold, counts, evidence')
  t.equal(resumed.revision, before.revision, 'no revision was added by the restart')
  const first = await again.look(5000)
  t.equal(first.phase, 'Progressing')
  t.same(first.step.counted, before.step.counted, 'the first look after the restart counts what was counted before')
  for (const [id, p] of Object.entries(before.step.evidence)) t.ok((first.step.evidence as Record<string, number>)[id]! <= p, `${id} keeps its evidence`)
  const { state } = await drive(again, LOOK)
  t.equal(state.phase, 'Succeeded', state.message)
  t.ok(state.decisions[0]!.reason.length > 0)
  t.equal(state.createdAt, before.createdAt, 'the same rollout')
})

t.test('a canary its fallback serves (no healthy target) counts every such request as an error', async t => {
  const dead = await startSeededBackend('dead', { errorRate: 0 }, 1)
  await dead.close()
  const rig = await startRig({
    seed: 5,
    stable: BASELINE,
    canary: BASELINE,
    config: stable => ({
      backends: { stable: { targets: [stable] }, canary: { targets: [dead.url], fallback: 'stable' } },
      routes: [{ name: ROUTE, split: { stable: 100, canary: 0 }, retries: false }]
    })
  })
  t.teardown(() => rig.close())
  await rig.send(400)
  await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [25, 100], judge: JUDGE })
  const { state } = await drive(rig, LOOK)
  t.equal(state.phase, 'Aborted', state.message)
  t.equal(state.decisions.at(-1)?.rule, 'errors-worse')
  const v = state.lastVerdict!
  t.equal(v.canary.errors, v.canary.requests, 'every canary request failed over')
  t.ok(v.canary.requests > 0)
})

t.test('only the leader looks', async t => {
  let leading = false
  const rig = await startRig({ seed: 9, stable: BASELINE, canary: BASELINE, leader: () => leading })
  t.teardown(() => rig.close())
  await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [25, 100], judge: JUDGE })
  await rig.send(200)
  const idle = await rig.look(5000)
  t.equal(idle.lastVerdict, undefined, 'a follower does not judge')
  leading = true
  t.ok((await rig.look(5000)).lastVerdict !== undefined, 'the leader does')
})

t.test('one rollout per route; a bad rollout is refused with every problem', async t => {
  const rig = await started(t)
  await t.rejects(rig.p.sy.rollouts.start({ route: ROUTE, canary: 'canary', steps: [50] }), { code: 'SY_ERR_ROLLOUT_ACTIVE' })
  await t.rejects(rig.p.sy.rollouts.start({ route: 'nope', canary: 'canary', steps: [50] }), { code: 'SY_ERR_ADMIN_UNKNOWN_ROUTE' })
  await rig.p.sy.rollouts.abort(ROUTE)
  const err = await rig.p.sy.rollouts.start({ route: ROUTE, canary: 'nope', baseline: 'canary', steps: [50, 20, 101], pauseAt: [30], judge: { alpha: 2 } }).catch((e: unknown) => e)
  t.ok(err instanceof SwitchyardError)
  t.same((err as SwitchyardError).details?.problems, [
    'backend "nope" is not defined',
    'steps must increase: 50, 20, 101',
    'steps[2]: 101 is not a whole percentage from 1 to 100',
    'pause-at 30 is not one of the steps (50, 20, 101)',
    'judge.alpha: 2 is not between 0 and 1'
  ])
  await t.rejects(rig.p.sy.rollouts.get('nope'), { code: 'SY_ERR_ROLLOUT_NOT_FOUND' })
  const stateOf = (s: RolloutState): string => s.phase
  t.equal(stateOf(await rig.state()), 'Aborted', 'the refused starts changed nothing')
})
