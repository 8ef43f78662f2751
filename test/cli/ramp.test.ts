/**
 * `switchyard ramp`, now a thin wrapper over `rollout start … --watch`:
 * the same flags and exit codes, the rollout run by switchyard's control
 * plane. The test drives the controller's looks (an injected clock, real
 * requests through the proxy) while the command watches.
 */
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { InvalidArgumentError } from 'commander'
import { stepsArg } from '../../src/commands/options.js'
import { runCli, type CliResult } from '../helpers/cli.js'
import { ROUTE, startRig, type Rig } from '../helpers/rollout-rig.js'

const BASELINE = { errorRate: 0.005, slowShare: 0.05, slowMs: 30 }

t.test('--steps takes increasing percentages only', async t => {
  t.same(stepsArg('10, 25,50,100'), [10, 25, 50, 100])
  t.same(stepsArg('0,100'), [0, 100])
  for (const bad of ['10,5', '10,10', '101', '-5', '1.5', 'ten', '']) t.throws(() => stepsArg(bad), InvalidArgumentError, bad)
})

async function rig (t: Test, canary = BASELINE): Promise<Rig> {
  const r = await startRig({ seed: 11, stable: BASELINE, canary })
  t.teardown(() => r.close())
  await r.send(400)
  return r
}

/** Runs `switchyard ramp ARGS` while the test sends traffic and looks, until the command exits. */
async function ramp (r: Rig, args: string[]): Promise<CliResult & { lines: string[] }> {
  let done = false
  const run = runCli(['ramp', ROUTE, 'canary', ...args, '--poll', '5ms', '--admin', r.p.sy.adminUrl]).finally(() => { done = true })
  // Wait for the rollout to exist, then look until the command has seen it end.
  while (!done && (await r.p.sy.rollouts.list()).length === 0) await new Promise(resolve => setTimeout(resolve, 5))
  for (let i = 0; !done && i < 400; i++) {
    await r.send(200)
    await r.look(5000)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  const result = await run
  return { ...result, lines: result.stdout.trimEnd().split('\n') }
}

async function split (r: Rig): Promise<Record<string, number>> {
  return (parse(await readFile(r.p.configPath, 'utf8')) as { routes: Array<{ split: Record<string, number> }> }).routes[0]?.split ?? {}
}

t.test('a healthy canary is ramped to 100 % (exit 0)', async t => {
  const r = await rig(t)
  const res = await ramp(r, ['--steps', '25,50,100', '--interval', '1m', '--tolerance', '2'])
  t.equal(res.code, 0, res.stderr)
  t.equal(res.lines[0], 'ramp runs as a rollout: switchyard rollout start web canary --steps 25,50,100 --min-step 60000ms --max-step 600000ms --min-requests 100 --tolerance 2 --watch')
  t.match(res.lines.at(-1), /^web: Succeeded, step 3\/3, canary at 100 % against stable: succeeded: /)
  t.same(await split(r), { stable: 0, canary: 100 })
  t.match((await r.state()).judge, { minStepMs: 60000, maxStepMs: 600000, minRequests: 100 })
})

t.test('a failing canary is rolled back to the starting weights (exit 4)', async t => {
  const r = await rig(t, { ...BASELINE, errorRate: 0.3 })
  const res = await ramp(r, ['--steps', '25,100', '--interval', '1m', '--max-error-rate', '5', '--max-p99', '2s'])
  t.equal(res.code, 4, res.stderr)
  t.match(res.stdout, /step 1 \(25 %\): (critical|worse) → abort: /)
  t.same(await split(r), { stable: 100, canary: 0 })
  t.match((await r.state()).judge, { maxErrorRate: 0.05, maxLatencySeconds: 2 })
})

t.test('a ramp that meets another operator\'s change pauses and leaves it (exit 3)', async t => {
  const r = await rig(t)
  let done = false
  const run = runCli(['ramp', ROUTE, 'canary', '--steps', '25,100', '--interval', '1m', '--poll', '5ms', '--admin', r.p.sy.adminUrl]).finally(() => { done = true })
  while ((await r.p.sy.rollouts.list()).length === 0) await new Promise(resolve => setTimeout(resolve, 5))
  await r.p.sy.operations.setWeights(ROUTE, { canary: 40 }, { origin: 'cli' })
  for (let i = 0; !done && i < 100; i++) {
    await r.look(5000)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  const res = await run
  t.equal(res.code, 3, res.stderr)
  t.match(res.stdout, /web: Paused \(edited\), step 1\/2, canary at 25 % against stable: paused: route web was changed by revision 3 \(cli: /)
  t.same(await split(r), { stable: 60, canary: 40 }, 'their change stands')
})

t.test('bad arguments are refused before anything changes', async t => {
  const r = await rig(t)
  const cases: Array<[string[], RegExp]> = [
    [['web', 'canary', '--steps', '50,25', '--interval', '1s'], /--steps must increase/],
    [['web', 'canary', '--steps', '10', '--interval', 'soon'], /--interval: invalid duration "soon"/],
    [['web', 'canary', '--steps', '10', '--interval', '1s', '--max-error-rate', 'lots'], /--max-error-rate: expected a percentage/],
    [['web', 'canary', '--steps', '10', '--interval', '1s', '--max-p99', 'fast'], /--max-p99: invalid duration "fast"/],
    [['nope', 'canary', '--steps', '10', '--interval', '1s'], /no route named "nope"/]
  ]
  for (const [args, message] of cases) {
    const res = await runCli(['ramp', ...args, '--admin', r.p.sy.adminUrl])
    t.equal(res.code, 1, args.join(' '))
    t.match(res.stderr, message)
  }
  t.same(await split(r), { stable: 100, canary: 0 })
  t.same(await r.p.sy.rollouts.list(), [], 'no rollout was started')
})
