/**
 * `switchyard serve --workers 2 --store URL` (on the fake Kubernetes API
 * server): the primary follows the store and feeds both workers, joins the
 * fleet and leads it alone, and a rollout kept in the store is judged on
 * every worker's requests, exactly. In test:fleet: it waits for real looks (5 s apart).
 */
import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { RolloutState } from '../../src/control/rollouts/model.js'
import { admin } from '../helpers/admin.js'
import { startBackends } from '../helpers/backends.js'
import { runCli, startCli } from '../helpers/cli.js'
import { kubeHarness, replicaConfig, until } from '../helpers/fleet.js'

t.test('serve --workers 2 --store: both workers follow the store; a rollout counts both', async t => {
  const h = await kubeHarness()
  t.teardown(() => h.close())
  const backends = await startBackends(t, 'stable', 'canary')
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-workers-store-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, replicaConfig({
    backends: { stable: { targets: [backends.stable.url] }, canary: { targets: [backends.canary.url] } },
    routes: [{ name: 'web', split: { stable: 100, canary: 0 } }]
  }))
  const url = h.url('workers')
  const env = { ...h.env, POD_NAME: 'w1', SWITCHYARD_STATE_DIR: dir, SWITCHYARD_STORE: undefined }
  const { child, match } = await startCli(['serve', '--config', file, '--store', url, '--workers', '2'], /"msg":"switchyard started"/, { env })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, admin: string, workers: number, store: string }
  t.equal(started.workers, 2)
  t.equal(started.store, url)

  // A fresh connection per request: the cluster hands connections to the workers in turn.
  const get = async (): Promise<string> => {
    const res = await request(started.proxy + '/', { headers: { connection: 'close' } })
    await res.body.dump()
    return `${res.statusCode} ${String(res.headers['x-backend'])}`
  }
  const set = await runCli(['set-weight', '--store', url, 'web', 'canary=100'], { env: h.env })
  t.equal(set.code, 0, set.stderr)
  await until('the primary applies revision 2', async () => (await admin<{ revision: number }>(started.admin, 'GET', '/admin/status')).body.revision === 2)
  const after: string[] = []
  for (let i = 0; i < 20; i++) after.push(await get())
  t.same([...new Set(after)], ['200 canary'], 'an edit in the store reaches every worker')
  const status = await admin<{ leader: string | null, replicas: Array<{ id: string }> }>(started.admin, 'GET', '/admin/status')
  t.equal(status.body.leader, 'w1', 'the primary leads its fleet of one')
  t.same(status.body.replicas.map(r => r.id), ['w1'])

  // A rollout kept in the store (stable is the canary here: canary has 100 %), moved by the primary.
  const start = await runCli(['rollout', 'start', 'web', 'stable', '--baseline', 'canary', '--steps', '50,100', '--min-step', '10m', '--store', url], { env: h.env })
  t.equal(start.code, 0, start.stderr)
  const state = async (): Promise<RolloutState> => (await admin<RolloutState>(started.admin, 'GET', '/admin/rollouts/web')).body
  const looked = async (): Promise<RolloutState> => {
    // Two looks: the second read the counters after everything sent before.
    for (let i = 0; i < 2; i++) {
      const before = (await state()).updatedAt
      await until('a look', async () => (await state()).updatedAt !== before, 30_000)
    }
    return await state()
  }
  const anchored = await looked()
  const n = (s: RolloutState): number => (s.step.counted?.canary.requests ?? 0) + (s.step.counted?.baseline.requests ?? 0)
  for (let i = 0; i < 40; i++) await get()
  const judged = await looked()
  t.equal(n(judged) - n(anchored), 40, 'the step counts the requests of both workers, exactly')
  t.equal(judged.step.index, 0)
})
