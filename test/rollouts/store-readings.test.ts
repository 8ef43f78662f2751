/**
 * The rollout store's compare-and-swap (file and memory, one suite), and
 * how the judge's per-arm counts are read from the metrics JSON.
 */
import t from 'tap'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Counter, Histogram, Registry } from 'prom-client'
import { countersOf } from '../../src/control/rollouts/readings.js'
import { countersFromJson, countersToJson, type RolloutState } from '../../src/control/rollouts/model.js'
import { FileRolloutStore, MemoryRolloutStore, rolloutFileFor } from '../../src/control/rollouts/store.js'
import { rolloutStoreCases } from '../helpers/rollout-store-cases.js'

const state = (route: string, message: string): RolloutState => ({ route, message } as unknown as RolloutState)

async function fileStore (): Promise<FileRolloutStore> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rollouts-'))
  return new FileRolloutStore(rolloutFileFor(join(dir, 'sy.yaml'), undefined))
}

for (const [name, make] of [['memory', async () => new MemoryRolloutStore()], ['file', fileStore]] as const) {
  t.test(`${name} store: put is compare-and-swap on the rollout's version`, async t => {
    await rolloutStoreCases(t, await make())
  })
}

t.test('the file store keeps its rollouts next to the config, replaced atomically, and refuses a foreign file', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rollouts-'))
  t.equal(rolloutFileFor('/etc/sy/switchyard.yaml', dir), join(dir, 'switchyard.yaml.rollouts.json'))
  t.equal(rolloutFileFor('/etc/sy/switchyard.yaml', undefined), '/etc/sy/switchyard.yaml.rollouts.json')
  const file = join(dir, 'sy.yaml.rollouts.json')
  const store = new FileRolloutStore(file)
  await store.put(state('web', 'kept'), undefined)
  t.same(await readdir(dir), ['sy.yaml.rollouts.json'], 'no temporary file is left behind')
  t.same(JSON.parse(await readFile(file, 'utf8')), { version: 1, rollouts: { web: { state: { route: 'web', message: 'kept' }, version: 1 } } })
  t.equal((await new FileRolloutStore(file).get('web'))?.version, '1', 'a new process reads it back')
  await writeFile(file, JSON.stringify({ version: 9 }))
  await t.rejects(store.list(), /not a rollouts file \(version 9\)/)
})

t.test('counters: a gRPC call answered 200 with an error status is a canary error, once', async t => {
  const registry = new Registry()
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code', 'grpc_code', 'grpc_error'], registers: [registry] })
  const count = (backend: string, code: string, grpc: string, error: string, n: number): void => requests.inc({ route: 'rpc', backend, version: '2', rule: 'split', method: 'POST', code, grpc_code: grpc, grpc_error: error }, n)
  count('canary', '200', 'OK', 'false', 80)
  count('canary', '200', 'NOT_FOUND', 'false', 5)
  count('canary', '200', 'INTERNAL', 'true', 10)
  count('canary', '503', 'UNAVAILABLE', 'true', 5)
  count('stable', '200', 'OK', 'false', 300)
  count('stable', '200', 'UNAVAILABLE', 'true', 2)
  const c = countersOf(await registry.getMetricsAsJSON(), { route: 'rpc', canary: 'canary', baseline: 'stable' })
  t.same([c.canary.requests, c.canary.errors, c.baseline.requests, c.baseline.errors], [100, 15, 302, 2])
})

t.test('counters: per arm, the split\'s requests and 5xx, failovers as canary errors, every version\'s durations', async t => {
  const registry = new Registry()
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code'], registers: [registry] })
  const count = (route: string, backend: string, version: string, rule: string, code: string, n: number): void => requests.inc({ route, backend, version, rule, method: 'GET', code }, n)
  count('web', 'canary', '0.6', 'split', '200', 90)
  count('web', 'canary', '0.7', 'split', '503', 4)
  count('web', 'canary', '0.6', 'beta', '500', 50) // a header rule's traffic: not the weighted split
  count('web', 'canary', '0.6', 'split', '499', 3)
  count('web', 'stable', '0.5', 'split', '200', 500)
  count('web', 'stable', '0.5', 'split', '502', 5)
  count('api', 'canary', '0.6', 'split', '502', 7)
  count('web', 'other', '1', 'split', '200', 70)
  const durations = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'h', labelNames: ['route', 'backend', 'version'], buckets: [0.005], registers: [registry] })
  for (let i = 0; i < 3; i++) durations.observe({ route: 'web', backend: 'canary', version: '0.6' }, 0.001)
  durations.observe({ route: 'web', backend: 'canary', version: '0.7' }, 1)
  durations.observe({ route: 'web', backend: 'stable', version: '0.5' }, 0.001)
  const failovers = new Counter({ name: 'switchyard_failovers_total', help: 'h', labelNames: ['route', 'backend', 'fallback'], registers: [registry] })
  failovers.inc({ route: 'web', backend: 'canary', fallback: 'stable' }, 7)
  failovers.inc({ route: 'api', backend: 'canary', fallback: 'stable' }, 100)
  const c = countersOf(await registry.getMetricsAsJSON(), { route: 'web', canary: 'canary', baseline: 'stable' })
  t.same([c.canary.requests, c.canary.errors, [...c.canary.buckets]], [104, 11, [[0.005, 3], [Infinity, 4]]], 'canary: 97 split answers + 7 failovers; 4 × 503 + 7 failovers')
  t.same([c.baseline.requests, c.baseline.errors, [...c.baseline.buckets]], [498, 5, [[0.005, 1], [Infinity, 1]]], 'baseline: the 7 it served for the canary are the canary\'s')
  t.same(countersFromJson(countersToJson(c)), c, 'counters survive JSON (+Inf included)')
  t.equal(c.canary.units, undefined, 'requests are the sample-ratio units')
  const sticky = new Counter({ name: 'switchyard_sticky_assignments_total', help: 'h', labelNames: ['route', 'backend'], registers: [registry] })
  sticky.inc({ route: 'web', backend: 'canary' }, 12)
  sticky.inc({ route: 'web', backend: 'stable' }, 40)
  const s = countersOf(await registry.getMetricsAsJSON(), { route: 'web', canary: 'canary', baseline: 'stable', sticky: true })
  t.same([s.canary.units, s.baseline.units, s.canary.requests], [12, 40, 104], 'a sticky route counts new users as the units')
  t.same(countersFromJson(countersToJson(s)), s)
  const none = countersOf([], { route: 'web', canary: 'canary', baseline: 'stable' })
  t.same([none.canary.requests, none.baseline.requests, none.canary.buckets.size], [0, 0, 0])
})
