/**
 * The judge on seeded traffic (bench/judge/simulate.ts), bounded to a few
 * seconds: a healthy canary is rolled back in at most α of the runs — also
 * with δ = 0, where "healthy" sits exactly on the boundary of the null
 * hypothesis and the bound is tight — a canary with 10× the errors is caught,
 * and the committed simulation page is what `npm run sim:judge` computes.
 */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { judgeConfig } from '../../src/judge/config.js'
import { badTable, healthyTable, summarize } from '../../bench/judge/report.js'
import { simulateCell, type Scenario } from '../../bench/judge/simulate.js'
import { BASE, EFFECTS, runCell, SHARES, SIMULATION_PAGE, simulationPage } from '../../bench/judge/sim.js'

const scenario = (delta: number, effect: Scenario['effect']): Scenario => ({
  ...BASE,
  share: 0.5,
  effect,
  config: judgeConfig({ minStepMs: 0, maxStepMs: 1e15, errors: { delta }, latency: { delta } }),
  maxRequests: 5000
})

t.test('a healthy canary is rolled back in at most α of 100 seeded runs', async t => {
  for (const delta of [0.5, 0]) {
    const s = summarize(simulateCell(scenario(delta, { kind: 'none' }), 100, 1400 + 10 * delta))
    t.ok(s.rolledBack <= 0.05 * s.runs, `δ ${delta}: ${s.rolledBack} rollbacks in ${s.runs} runs`, s)
    t.ok(s.srm <= 0.001 * s.runs + 1, `δ ${delta}: ${s.srm} sample-ratio pauses`)
  }
})

t.test('a canary with 10× the errors is caught, in a few hundred canary requests', async t => {
  const s = summarize(simulateCell(scenario(0.5, { kind: 'errors', factor: 10 }), 60, 1402))
  t.ok(s.rolledBack >= 57, `${s.rolledBack} of ${s.runs} caught`)
  t.ok(s.catchCanary !== undefined && s.catchCanary.median < 1000, `median ${s.catchCanary?.median} canary requests`)
})

t.test('the committed page is what the script computes', async t => {
  const page = await readFile(SIMULATION_PAGE, 'utf8')
  const runs = Number(/seed \d+, (\d+) runs per row/.exec(page)?.[1])
  t.ok(runs >= 100, `${runs} runs per row`)
  // One cheap row recomputed with the page's seed and runs (the whole page takes minutes):
  // the 50 % canary with the slow tail.
  const row = runCell(SHARES.indexOf(0.5), EFFECTS.findIndex(e => e.kind === 'tail'), runs)
  const line = badTable([row]).split('\n')[2]!
  t.ok(page.includes(line), `the page holds ${line}`)
  // The script's page generation runs end to end (1 run per cell).
  const small = simulationPage(1)
  t.equal(small.match(/^\| \d+ % \|/gm)?.length, SHARES.length * (EFFECTS.length + 2), 'a row per share and effect, and per share with the ratio alone and at δ 0.2')
  t.match(small, healthyTable([]).split('\n')[0]!)
})
