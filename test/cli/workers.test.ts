/**
 * `switchyard serve --workers 2`: both workers serve on the shared port,
 * a change through the admin API reaches every worker, /metrics adds up
 * across workers, a rollout's judge counts every worker's requests, and
 * SIGTERM drains them all and exits 0.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { startBackend } from '../helpers/backends.js'
import { runCli, startCli } from '../helpers/cli.js'
import { scrape } from '../helpers/exposition.js'
import type { RolloutState } from '../../src/control/rollouts/model.js'

t.test('two workers behind one port, one config', async t => {
  const stable = await startBackend('stable')
  const canary = await startBackend('canary')
  t.teardown(async () => { await stable.close(); await canary.close() })
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-workers-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { drainDelay: '200ms', timeout: '5s' },
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 100, canary: 0 } }]
  }))
  const { child, lines, match } = await startCli(['serve', '--config', file, '--workers', '2'], /"msg":"switchyard started"/)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, admin: string, workers: number }
  t.equal(started.workers, 2)

  // A fresh connection per request: the cluster hands connections to the workers in turn.
  const get = async (): Promise<string> => {
    const res = await request(started.proxy + '/', { headers: { connection: 'close' } })
    await res.body.dump()
    return `${res.statusCode} ${String(res.headers['x-backend'])}`
  }
  const before: string[] = []
  for (let i = 0; i < 20; i++) before.push(await get())
  t.same([...new Set(before)], ['200 stable'])

  const set = await runCli(['set-weight', '--admin', started.admin, 'web', 'canary=100'])
  t.equal(set.stdout, 'revision 2: web: stable 100→0, canary 0→100\n')
  const after: string[] = []
  for (let i = 0; i < 20; i++) after.push(await get())
  t.same([...new Set(after)], ['200 canary'], 'every worker applied the change')

  const m = await scrape(started.admin)
  t.equal(m.sum('switchyard_requests_total', { route: 'web' }), 40, 'requests add up over the workers')
  t.equal(m.value('switchyard_backend_weight', { route: 'web', backend: 'canary' }), 100, 'per-config gauges are not multiplied by the workers')
  t.equal(m.select('switchyard_config_info').length, 1)

  // A rollout runs in the primary and judges the counts of every worker (stable is the canary here: canary has 100 %).
  const start = await runCli(['rollout', 'start', 'web', 'stable', '--baseline', 'canary', '--steps', '50,100', '--admin', started.admin])
  t.equal(start.code, 0, start.stderr)
  for (let i = 0; i < 40; i++) await get()
  // The primary looks every 5 s: wait (bounded) for a look that has seen `n` requests.
  const status = async (): Promise<RolloutState> => JSON.parse((await runCli(['rollout', 'status', 'web', '--json', '--admin', started.admin])).stdout) as RolloutState
  const judged = async (n: number): Promise<number> => {
    let seen = 0
    for (let i = 0; i < 75 && seen < n; i++) {
      await new Promise(resolve => setTimeout(resolve, 200))
      const s = await status()
      seen = s.lastVerdict === undefined ? 0 : s.lastVerdict.canary.requests + s.lastVerdict.baseline.requests
    }
    return seen
  }
  t.equal(await judged(40), 40, 'the judge counted the requests of both workers')

  // Each worker is counted apart (its mark in the step): one killed and replaced takes nothing counted with it, and
  // the survivor and the new one add only what they serve from here (the workers' sum would drop and be misread).
  const marks = Object.keys((await status()).step.marks ?? {})
  t.same(marks.map(k => k.replace(/^\d+-/, '')).sort(), ['1', '2'], 'a mark per worker')
  const workerPids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)]).toString().trim().split(/\s+/).map(Number)
  t.equal(workerPids.length, 2)
  process.kill(workerPids[0] as number, 'SIGKILL')
  for (let i = 0; i < 100 && !lines.some(l => l.includes('worker died; starting another')); i++) await new Promise(resolve => setTimeout(resolve, 100))
  for (let i = 0; i < 20; i++) await get()
  t.equal(await judged(60), 60, 'after a worker was killed and replaced: exactly the 20 requests since added')

  // The console's time series add up every worker's requests (the primary samples them every 5 s; up to 30 s under load): 100 on web, the killed worker's included.
  let counted = 0
  for (let i = 0; i < 150 && counted < 100; i++) {
    await new Promise(resolve => setTimeout(resolve, 200))
    const ts = await (await request(`${started.admin}/admin/timeseries?route=web`)).body.json() as { series: Array<{ points: { requests: number[] } }> }
    counted = ts.series.reduce((n, s) => n + (s.points.requests.at(-1) ?? 0), 0)
  }
  t.equal(counted, 100, 'the console\'s samples count the requests of every worker, the killed one\'s too')
  // Served under --workers: the page (200 once `npm run build` built dist/ui/; before that, the console's own 404 saying so).
  const ui = await request(`${started.admin}/ui/`)
  const page = await ui.body.text()
  t.ok(ui.statusCode === 200 || page.includes('the web console is not built'), `/ui/ answers ${ui.statusCode}`)

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0)
})

t.test('--workers must be a number or auto', async t => {
  const r = await runCli(['serve', '--workers', 'lots'])
  t.equal(r.code, 1)
  t.match(r.stderr, /--workers takes a number from 1 to 256 or `auto`/)
})
