/**
 * The config-driven metrics through real reloads: the weight gauge follows
 * the running config (and drops what it no longer has), reloads are counted
 * by result, and the running revision is exported.
 */
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { startBackend, type Backend } from '../helpers/backends.js'
import { scrape, scrapeUntil } from '../helpers/exposition.js'
import { startWith, writeConfig } from '../helpers/switchyard.js'

let stable: Backend
let canary: Backend
let green: Backend
t.before(async () => {
  stable = await startBackend('stable')
  canary = await startBackend('canary')
  green = await startBackend('green')
})
t.teardown(async () => { await stable.close(); await canary.close(); await green.close() })

function config (routes: unknown[], versions: { canary?: string } = {}): Record<string, unknown> {
  return {
    backends: {
      stable: { version: '1.0', targets: [stable.url] },
      canary: { version: versions.canary ?? '1.1', targets: [canary.url] },
      green: { version: '2.0', targets: [green.url] }
    },
    routes
  }
}

const WEIGHT = ['route', 'backend'] as const

t.test('the weight gauge follows reloads; a dropped route or backend leaves no stale series', async t => {
  const p = await startWith(config([
    { name: 'shop', split: { stable: 90, canary: 10 } },
    { name: 'admin', match: { host: 'admin.test' }, to: 'stable' }
  ]))
  t.teardown(() => p.close())
  await p.sy.live.stopWatching() // reloads below are explicit, so each returns its own outcome
  t.same((await scrape(p.sy.adminUrl)).table('switchyard_backend_weight', WEIGHT), {
    'route=shop,backend=stable': 90,
    'route=shop,backend=canary': 10,
    'route=admin,backend=stable': 1
  })

  // The rollout moves on; `admin` is renamed `ops` and goes blue/green to `green`.
  await writeConfig(p.configPath, config([
    { name: 'shop', split: { stable: 50, canary: 50 } },
    { name: 'ops', match: { host: 'admin.test' }, to: 'green' }
  ]))
  t.equal((await p.sy.live.reload('sighup')).result, 'success')
  t.same((await scrape(p.sy.adminUrl)).table('switchyard_backend_weight', WEIGHT), {
    'route=shop,backend=stable': 50,
    'route=shop,backend=canary': 50,
    'route=ops,backend=green': 1
  })

  // Promotion: the canary takes everything and stable leaves the split; weight 0 is kept, it is a setting.
  await writeConfig(p.configPath, config([{ name: 'shop', split: { canary: 100, stable: 0 } }]))
  t.equal((await p.sy.live.reload('sighup')).result, 'success')
  t.same((await scrape(p.sy.adminUrl)).table('switchyard_backend_weight', WEIGHT), {
    'route=shop,backend=canary': 100,
    'route=shop,backend=stable': 0
  })
})

t.test('reloads are counted by result; the revision and sha256 of the running config are exported', async t => {
  const p = await startWith(config([{ name: 'shop', split: { stable: 90, canary: 10 } }]))
  t.teardown(() => p.close())
  const reloads = (m: Awaited<ReturnType<typeof scrape>>): Record<string, number> => m.table('switchyard_config_reloads_total', ['result'])

  let m = await scrape(p.sy.adminUrl)
  t.same(reloads(m), { 'result=success': 0, 'result=failure': 0 }, 'the start is not a reload')
  t.same(m.table('switchyard_config_info', ['revision', 'sha256']), { [`revision=1,sha256=${p.sy.live.current.table.sha256}`]: 1 })
  t.equal(m.value('switchyard_config_last_reload_successful'), 1)
  t.equal(m.value('switchyard_config_last_reload_success_timestamp_seconds'), (p.sy.plane?.store.current.loadedAt.getTime() ?? 0) / 1000)

  // A good file, through the watcher as in production.
  await writeConfig(p.configPath, config([{ name: 'shop', split: { stable: 50, canary: 50 } }]))
  m = await scrapeUntil(p.sy.adminUrl, m => m.value('switchyard_config_reloads_total', { result: 'success' }) === 1)
  t.same(reloads(m), { 'result=success': 1, 'result=failure': 0 })
  t.equal(p.sy.live.current.revision, 2)
  t.same(m.table('switchyard_config_info', ['revision', 'sha256']), { [`revision=2,sha256=${p.sy.live.current.table.sha256}`]: 1 }, 'only the running revision')
  const appliedAt = (p.sy.plane?.store.current.loadedAt.getTime() ?? 0) / 1000
  t.equal(m.value('switchyard_config_last_reload_success_timestamp_seconds'), appliedAt)

  // A bad one: counted, flagged, and the running config's series stay as they were.
  await p.sy.live.stopWatching() // from here on, reload explicitly so each outcome is counted once
  await writeFile(p.configPath, 'routes: [ {')
  t.equal((await p.sy.live.reload('sighup')).result, 'failure')
  await writeConfig(p.configPath, config([{ name: 'shop', to: 'nowhere' }]))
  t.equal((await p.sy.live.reload('sighup')).result, 'failure')
  m = await scrape(p.sy.adminUrl)
  t.same(reloads(m), { 'result=success': 1, 'result=failure': 2 })
  t.equal(m.value('switchyard_config_last_reload_successful'), 0)
  t.equal(m.value('switchyard_config_last_reload_success_timestamp_seconds'), appliedAt)
  t.same(m.table('switchyard_config_info', ['revision']), { 'revision=2': 1 })
  t.same(m.table('switchyard_backend_weight', WEIGHT), { 'route=shop,backend=stable': 50, 'route=shop,backend=canary': 50 })

  // Putting back the file that runs is not a reload, but nothing is failing any more.
  await writeConfig(p.configPath, config([{ name: 'shop', split: { stable: 50, canary: 50 } }]))
  t.equal((await p.sy.live.reload('sighup')).result, 'unchanged')
  m = await scrape(p.sy.adminUrl)
  t.same(reloads(m), { 'result=success': 1, 'result=failure': 2 })
  t.equal(m.value('switchyard_config_last_reload_successful'), 1)
})

t.test('counters survive reloads; a new version of a backend gets its own series', async t => {
  const p = await startWith(config([{ name: 'shop', to: 'canary' }]))
  t.teardown(() => p.close())
  await p.sy.live.stopWatching()
  for (let i = 0; i < 3; i++) await p.get('/')
  await writeConfig(p.configPath, config([{ name: 'shop', to: 'canary' }], { canary: '1.2' }))
  t.equal((await p.sy.live.reload('sighup')).result, 'success')
  for (let i = 0; i < 2; i++) await p.get('/')
  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_requests_total', ['route', 'backend', 'version', 'code']), {
    'route=shop,backend=canary,version=1.1,code=200': 3,
    'route=shop,backend=canary,version=1.2,code=200': 2
  })
  t.same(m.table('switchyard_backend_info', ['backend', 'version']), {
    'backend=stable,version=1.0': 1,
    'backend=canary,version=1.2': 1,
    'backend=green,version=2.0': 1
  })
  t.same(m.table('switchyard_request_duration_seconds_count', ['version']), { 'version=1.1': 3, 'version=1.2': 2 })
})

t.test('a request in flight across a reload that drops its route is counted, then its gauge goes', async t => {
  const p = await startWith(config([{ name: 'old', to: 'stable' }]))
  t.teardown(() => p.close())
  await p.sy.live.stopWatching()
  const slow = p.get('/delay/800')
  await scrapeUntil(p.sy.adminUrl, m => m.value('switchyard_requests_in_flight', { route: 'old', backend: 'stable' }) === 1)
  await writeConfig(p.configPath, config([{ name: 'new', to: 'green' }]))
  t.equal((await p.sy.live.reload('sighup')).result, 'success')
  let m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_requests_in_flight', WEIGHT), { 'route=old,backend=stable': 1, 'route=new,backend=green': 0 }, 'still running on the old table')
  t.equal((await slow).status, 200)
  m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_requests_in_flight', WEIGHT), { 'route=new,backend=green': 0 })
  t.same(m.table('switchyard_requests_total', ['route', 'backend', 'code']), { 'route=old,backend=stable,code=200': 1 })
})
