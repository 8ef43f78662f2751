/**
 * The console under `switchyard serve --workers 2` (the real CLI, two
 * worker processes behind one port), in a real Chromium: the primary serves
 * the page, and the overview's counters add up the requests both workers
 * served.
 */
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { startBackends } from '../helpers/backends.js'
import { assertClean, launchBrowser, openTab } from '../helpers/browser.js'
import { startCli } from '../helpers/cli.js'

t.test('the overview counts every worker\'s requests', async t => {
  const { stable, canary } = await startBackends(t, 'stable', 'canary')
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-ui-workers-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { drainDelay: '0s' },
    backends: { stable: { version: '1.0', targets: [stable.url] }, canary: { version: '1.1', targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 50, canary: 50 } }]
  }))
  const { child, match } = await startCli(['serve', '--config', file, '--workers', '2'], /"msg":"switchyard started"/)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, admin: string, workers: number }
  t.equal(started.workers, 2)

  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const rec = await openTab(t, browser)
  await rec.page.goto(`${started.admin}/ui/`)
  await rec.page.locator('section[data-route="web"]').waitFor({ timeout: 10_000 })

  // A fresh connection per request: the cluster hands connections to the workers in turn.
  const served = { stable: 0, canary: 0 }
  for (let i = 0; i < 60; i++) {
    const res = await request(`${started.proxy}/p/${i}`, { headers: { connection: 'close' } })
    await res.body.dump()
    served[res.headers['x-backend'] as 'stable' | 'canary']++
  }
  for (const b of ['stable', 'canary'] as const) {
    await rec.page.locator(`section[data-route="web"] tr[data-backend="${b}"] td[data-col="requests"]`, { hasText: new RegExp(`^${served[b]}$`) }).waitFor({ timeout: 30_000 })
  }
  t.pass(`the page counts ${served.stable} + ${served.canary} requests, as the workers served them`)
  assertClean(t, rec, new URL(started.admin).origin)
})
