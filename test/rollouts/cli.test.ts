/**
 * `switchyard rollout …` against a running switchyard: the verbs, the
 * status with the numbers behind the last verdict (text and --json), and
 * `--watch`'s exit codes. The test drives the controller's looks.
 */
import t, { type Test } from 'tap'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import { admin } from '../helpers/admin.js'
import { runCli } from '../helpers/cli.js'
import { ROUTE, startRig } from '../helpers/rollout-rig.js'

const BASELINE = { errorRate: 0.005, slowShare: 0.05, slowMs: 30 }

t.test('start, status (text and --json), pause, resume, promote, abort', async t => {
  const r = await startRig({ seed: 21, stable: BASELINE, canary: BASELINE })
  t.teardown(() => r.close())
  const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await runCli([...args, '--admin', r.p.sy.adminUrl])

  t.equal((await cli('rollout', 'status')).stdout, 'no rollouts\n')
  await r.send(400)
  const start = await cli('rollout', 'start', ROUTE, 'canary', '--steps', '10,50,100', '--pause-at', '50', '--min-step', '30s', '--max-step', '5m', '--tolerance', '2', '--alpha', '0.01', '--delta', '0.25', '--min-requests', '50')
  t.equal(start.code, 0, start.stderr)
  t.match(start.stdout, /^web: Progressing, step 1\/3, canary at 10 % against stable\n {2}steps 10, 50, 100 %; manual gate after 50 %; started .* from revision 1 \(weights \{"stable":100,"canary":0\}\)\n/)
  t.match((await r.state()).judge, { minStepMs: 30000, maxStepMs: 300000, alpha: 0.01, minRequests: 50, errors: { delta: 0.25, tolerance: 0.02 }, latency: { delta: 0.25, tolerance: 0.02 } })

  await r.send(300)
  await r.look(5000)
  const json = await cli('rollout', 'status', ROUTE, '--json')
  const s = JSON.parse(json.stdout) as RolloutState
  const v = s.lastVerdict!
  t.equal(v.outcome, 'inconclusive-continue')
  t.equal(v.canary.requests + v.baseline.requests, 300, 'the step\'s requests, per arm')
  t.equal(v.alpha, 0.01)
  t.equal(v.errors.delta, 0.25)
  t.type(v.errors.worse.pValue, 'number')
  t.type(v.errors.worse.bayesFactor, 'number')
  t.type(v.srm.low.pValue, 'number')
  const slowOver = v.threshold?.seconds
  t.ok(slowOver !== undefined && [0.05, 0.1, 0.25, 0.5].includes(slowOver), 'the baseline\'s p99 before the step, rounded up to a bucket bound')
  t.equal(v.rule, 'waiting')

  const text = (await cli('rollout', 'status', ROUTE)).stdout
  t.match(text, /last look: inconclusive-continue by rule waiting: /)
  t.match(text, new RegExp(` {4}canary +${v.canary.requests} +${v.canary.errors} +${v.canary.slow ?? 0}\\n {4}baseline +${v.baseline.requests} +${v.baseline.errors} +${v.baseline.slow ?? 0}\\n`))
  t.match(text, `requests   errors slow (> ${slowOver ?? ''} s)`)
  t.match(text, /α 0\.01; canary weight 10 % of the two arms/)
  t.match(text, /errors: canary .*δ 0\.25, tolerance 2 %\n {6}worse {4}\(canary error rate ≤ .* rejected → abort\): BF [\d.e+-]+, p [\d.e+-]+ [>≤] /)
  t.match(text, /sample ratio: canary [\d.]+ % of 300 against 10 %/)

  t.match((await cli('rollout', 'pause', ROUTE)).stdout, /^web: Paused \(manual\), step 1\/3, canary at 10 % against stable: paused by an operator/)
  const again = await cli('rollout', 'pause', ROUTE)
  t.equal(again.code, 1)
  t.match(again.stderr, /is Paused \(manual\); this needs it Progressing \[SY_ERR_ROLLOUT_PHASE\]/)
  t.match((await cli('rollout', 'resume', ROUTE)).stdout, /^web: Progressing, step 1\/3/)
  t.match((await cli('rollout', 'promote', ROUTE)).stdout, /^web: Progressing, step 2\/3, canary at 50 % against stable: step 1 promoted by an operator/)
  const aborted = await cli('rollout', 'abort', ROUTE, '--json')
  t.match(JSON.parse(aborted.stdout), { phase: 'Aborted', abortReason: 'manual', weight: 0 })
  const all = JSON.parse((await cli('rollout', 'status', '--json')).stdout) as { rollouts: RolloutState[] }
  t.same(all.rollouts.map(x => [x.route, x.phase]), [['web', 'Aborted']])
  const missing = await cli('rollout', 'abort', 'nope')
  t.equal(missing.code, 1)
  t.match(missing.stderr, /\[SY_ERR_ROLLOUT_NOT_FOUND\]/)
  const bad = await cli('rollout', 'start', ROUTE, 'nope', '--steps', '10')
  t.equal(bad.code, 1)
  t.match(bad.stderr, /backend "nope" is not defined \[SY_ERR_ROLLOUT_INVALID\]/)
})

/** `rollout start … --watch` while the test sends traffic and looks; resolves with the command's result. */
async function watched (t: Test, canary: typeof BASELINE, args: string[]): Promise<{ code: number | null, stdout: string }> {
  const r = await startRig({ seed: 22, stable: BASELINE, canary })
  t.teardown(() => r.close())
  await r.send(400)
  let done = false
  const run = runCli(['rollout', 'start', ROUTE, 'canary', ...args, '--watch', '--poll', '5ms', '--admin', r.p.sy.adminUrl]).finally(() => { done = true })
  while (!done && (await r.p.sy.rollouts.list()).length === 0) await new Promise(resolve => setTimeout(resolve, 5))
  for (let i = 0; !done && i < 300; i++) {
    await r.send(200)
    await r.look(5000)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return await run
}

t.test('--watch exits 4 when the canary is rolled back', async t => {
  const res = await watched(t, { ...BASELINE, errorRate: 0.05 }, ['--steps', '25,100'])
  t.equal(res.code, 4)
  t.match(res.stdout, /step 1 \(25 %\): worse → abort: errors worse than 1\.5× the baseline's: /)
  t.match(res.stdout, /\nweb: Aborted \(worse\), step 1\/2, canary at 0 % against stable: aborted at 25 %: /)
})

t.test('--watch exits 5 at a manual gate', async t => {
  const res = await watched(t, BASELINE, ['--steps', '25,100', '--pause-at', '25', '--tolerance', '2'])
  t.equal(res.code, 5)
  t.match(res.stdout, /web: Paused \(gate\), step 1\/2, canary at 25 % against stable: paused at the manual gate after 25 %/)
})

t.test('the admin API: bodies checked by their schema, codes answered with their status', async t => {
  const r = await startRig({ seed: 23, stable: BASELINE, canary: BASELINE })
  t.teardown(() => r.close())
  const app = r.p.sy.admin
  const cases: Array<[string, string, unknown, number, string]> = [
    ['POST', '/admin/rollouts', { route: 'web' }, 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['POST', '/admin/rollouts', { route: 'web', backend: 'canary', steps: ['x'] }, 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['POST', '/admin/rollouts', { route: 'web', backend: 'canary', steps: [10], judge: { alpha: 1.5 } }, 400, 'SY_ERR_ROLLOUT_INVALID'],
    ['POST', '/admin/rollouts', { route: 'nope', backend: 'canary', steps: [10] }, 404, 'SY_ERR_ADMIN_UNKNOWN_ROUTE'],
    ['GET', '/admin/rollouts/web', undefined, 404, 'SY_ERR_ROLLOUT_NOT_FOUND'],
    ['POST', '/admin/rollouts/web/promote', { full: 'yes' }, 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['POST', '/admin/rollouts/web/pause', undefined, 404, 'SY_ERR_ROLLOUT_NOT_FOUND']
  ]
  for (const [method, url, body, status, code] of cases) {
    const res = await admin(app, method as 'GET' | 'POST', url, { body })
    t.equal(res.status, status, `${method} ${url} ${JSON.stringify(body)}`)
    t.equal(res.body.error, code)
  }
  const created = await admin<RolloutState>(app, 'POST', '/admin/rollouts', { body: { route: 'web', backend: 'canary', steps: [10, 100], judge: { errors: { tolerance: 0.02 } } } })
  t.equal(created.status, 201)
  t.match(created.body, { route: 'web', canary: 'canary', baseline: 'stable', phase: 'Progressing', weight: 10, judge: { errors: { tolerance: 0.02 } } })
  const again = await admin(app, 'POST', '/admin/rollouts', { body: { route: 'web', backend: 'canary', steps: [10] } })
  t.equal(again.status, 409)
  t.equal(again.body.error, 'SY_ERR_ROLLOUT_ACTIVE')
  const resumed = await admin(app, 'POST', '/admin/rollouts/web/resume')
  t.equal(resumed.status, 409)
  t.equal(resumed.body.error, 'SY_ERR_ROLLOUT_PHASE')
  t.equal((await admin(app, 'POST', '/admin/rollouts/web/promote', { body: { full: true } })).body.phase, 'Succeeded')
})
