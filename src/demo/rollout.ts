/**
 * `npm run demo:rollout`: the classic rolling-release experiment, on one
 * machine. Three testpage instances of 0.5 and three of 0.6 on 127.0.0.1
 * behind a real `switchyard serve` process; a client loop prints every
 * answer while the share of 0.6 moves 0 → 33 → 66 → 100 % and back to 0
 * (a rollback). Ends with the counts per step and version and the number of
 * failed requests, which must be 0; exits 1 otherwise.
 *
 * Bounded: `--per-step` requests per step (default 60) `--interval-ms` apart
 * (default 25), and the whole run is cut off after 60 s.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { RolloutClient, newTally } from './rollout-client.js'
import { checkSteps, summary, type Step } from './rollout-report.js'
import { rolloutConfig, setWeights, undoTo, type DemoBackends } from './rollout-weights.js'
import { startSwitchyardProcess, type SwitchyardProcess } from './switchyard-process.js'
import { startTestpage, type Testpage } from '../testpage/testpage.js'

const DEADLINE_MS = 60_000
/** Each step after the first is a set-weight, except the rollback: an undo to the first revision. */
const PLAN: ReadonlyArray<{ label: string, percent: number, undoTo?: number }> = [
  { label: '0 % to 0.6', percent: 0 },
  { label: '33 % to 0.6', percent: 33 },
  { label: '66 % to 0.6', percent: 66 },
  { label: '100 % to 0.6', percent: 100 },
  { label: 'rollback: 0 % to 0.6', percent: 0, undoTo: 1 }
]

const { values } = parseArgs({ options: { 'per-step': { type: 'string', default: '60' }, 'interval-ms': { type: 'string', default: '25' } } })
const perStep = Number(values['per-step'])
const intervalMs = Number(values['interval-ms'])
const print = (line: string): void => { process.stdout.write(line + '\n') }
// A step of no requests would "pass" with 0 failures: refuse such a run.
if (!(Number.isInteger(perStep) && perStep > 0 && perStep <= 10_000 && Number.isInteger(intervalMs) && intervalMs >= 0 && intervalMs <= 1_000)) {
  print('usage: rollout [--per-step 1..10000] [--interval-ms 0..1000]')
  process.exit(2)
}

const pages: Testpage[] = []
let sy: SwitchyardProcess | undefined
let client: RolloutClient | undefined
const dir = await mkdtemp(join(tmpdir(), 'switchyard-rollout-'))

async function cleanUp (): Promise<void> {
  await client?.close()
  await sy?.stop()
  await Promise.all(pages.map(async p => await p.close()))
  await rm(dir, { recursive: true, force: true })
}

const deadline = setTimeout(() => {
  print(`FAILED: the demo did not finish within ${DEADLINE_MS / 1000} s`)
  cleanUp().finally(() => process.exit(1))
}, DEADLINE_MS)

async function run (): Promise<boolean> {
  for (const version of ['0.5', '0.5', '0.5', '0.6', '0.6', '0.6']) pages.push(await startTestpage(version, 0, '127.0.0.1'))
  const backends: DemoBackends = { stable: pages.slice(0, 3).map(p => p.url), next: pages.slice(3).map(p => p.url) }
  const configFile = join(dir, 'switchyard.yaml')
  await writeFile(configFile, rolloutConfig(backends, PLAN[0]?.percent ?? 0))
  sy = await startSwitchyardProcess(configFile)
  client = new RolloutClient(sy.proxyUrl, intervalMs, print)
  print(`switchyard ${sy.proxyUrl} in front of 0.5 at ${backends.stable.join(' ')} and 0.6 at ${backends.next.join(' ')}`)

  const steps: Step[] = []
  for (const [i, plan] of PLAN.entries()) {
    const step: Step = { ...plan, live: newTally(), switching: newTally() }
    steps.push(step)
    print(`== step ${i + 1}/${PLAN.length}: ${plan.label}`)
    if (i > 0) {
      // Keep the traffic flowing while the new weights go live: a request
      // lost to the switch is exactly what this demo must not show.
      const t0 = Date.now()
      let switched = false
      const live = sy
      const applied = (plan.undoTo !== undefined ? undoTo(live, plan.undoTo) : setWeights(live, plan.percent)).finally(() => { switched = true })
      while (!switched) await client.send(step.switching)
      print(`== ${await applied} (live ${Date.now() - t0} ms after the call)`)
    }
    for (let n = 0; n < perStep; n++) await client.send(step.live)
  }
  print('== summary: answers per version in each step')
  for (const line of summary(steps)) print(line)
  return steps.every(s => s.live.failed === 0 && s.switching.failed === 0) && checkSteps(steps).length === 0
}

let ok = false
try {
  ok = await run()
} catch (err) {
  print(`FAILED: ${(err as Error).message}`)
} finally {
  clearTimeout(deadline)
  await cleanUp()
}
process.exitCode = ok ? 0 : 1
