/**
 * Zero failed requests through every kind of change, under load: 20 000
 * GETs per scenario (bounded, 127.0.0.1 only) while weights flip, the
 * config reloads in every way a file changes, a target dies and comes back,
 * a whole backend dies (failover), and an instance is stopped with SIGTERM
 * while a second one takes over. Run by `npm run test:load` (and CI).
 */
import t from 'tap'
import { once } from 'node:events'
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { startBackend, startBackends, type Backend } from '../helpers/backends.js'
import { startCli } from '../helpers/cli.js'
import { runLoad, type LoadResult } from '../helpers/load.js'
import { startWith, withTestDefaults } from '../helpers/switchyard.js'
import { admin } from '../helpers/admin.js'

const TOTAL = 20_000

interface Asserts {
  comment (...args: unknown[]): void
  ok (value: unknown, message: string): boolean
}

function report (t: Asserts, name: string, r: LoadResult): void {
  t.comment(`${name}: ${r.sent} requests, ${r.failures.length} failed, by backend ${JSON.stringify(r.byBackend)}`)
  t.ok(r.sent === TOTAL, `${name}: ${r.sent} of ${TOTAL} requests sent`)
  t.ok(r.failures.length === 0, `${name}: ${r.failures.length} failed${r.failures.length === 0 ? '' : ': ' + r.failures.slice(0, 5).join(' | ')}`)
  t.ok(r.ok === TOTAL, `${name}: ${r.ok} answered 200`)
}

const { stable, canary } = await startBackends(t, 'stable', 'canary')

t.test('weights flipped 10 times under load', async t => {
  const p = await startWith({
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 100, canary: 0 }, sticky: { cookie: 'sy_id' } }]
  })
  t.teardown(() => p.close())
  let flips = 0
  const r = await runLoad({
    total: TOTAL,
    target: () => p.sy.proxyUrl,
    progress: {
      every: TOTAL / 11,
      fn: async () => {
        if (flips >= 10) return
        flips++
        const canaryShare = flips % 2 === 1 ? 100 : 0
        const res = await admin(p.sy.adminUrl, 'PUT', '/admin/routes/web/weights', { body: { weights: { stable: 100 - canaryShare, canary: canaryShare } } })
        if (res.status !== 200) throw new Error(`flip failed: ${res.text}`)
      }
    }
  })
  report(t, 'weight flips', r)
  t.equal(flips, 10, '10 flips')
  t.ok((r.byBackend.stable ?? 0) > 0 && (r.byBackend.canary ?? 0) > 0, 'both versions served')
})

t.test('config reloaded 10 times under load: in place, rename, ConfigMap ..data swap', async t => {
  const config = (canaryShare: number): string => stringify(withTestDefaults({
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 100 - canaryShare, canary: canaryShare } }]
  }))
  const p = await startWith(config(0))
  t.teardown(() => p.close())
  const dir = p.dir
  const applied: string[] = []
  p.sy.live.on('reload', (o, origin) => { if (o.result === 'success') applied.push(origin) })
  let reloads = 0
  const change = async (): Promise<void> => {
    if (reloads >= 10) return
    reloads++
    const text = config(reloads % 2 === 1 ? 50 : 10 * reloads)
    if (reloads <= 4) {
      await writeFile(p.configPath, text) // in place
    } else if (reloads <= 7) {
      await writeFile(join(dir, '.tmp.yaml'), text) // an editor's rename
      await rename(join(dir, '.tmp.yaml'), p.configPath)
    } else {
      // The kubelet's way: a new timestamped directory, ..data swapped atomically.
      const version = `..v${reloads}`
      await mkdir(join(dir, version))
      await writeFile(join(dir, version, 'switchyard.yaml'), text)
      await symlink(version, join(dir, '..data_tmp'))
      await rename(join(dir, '..data_tmp'), join(dir, '..data'))
      if (reloads === 8) {
        const link = join(dir, '.link.tmp')
        await symlink('..data/switchyard.yaml', link)
        await rename(link, p.configPath)
      } else {
        await rm(join(dir, `..v${reloads - 1}`), { recursive: true })
      }
    }
  }
  const r = await runLoad({ total: TOTAL, target: () => p.sy.proxyUrl, progress: { every: TOTAL / 11, fn: change } })
  await p.sy.live.reload('sighup') // queued behind the watcher: every reload is done after this
  report(t, 'reloads', r)
  t.equal(reloads, 10, '10 changes to the file')
  t.equal(applied.filter(o => o === 'file').length, 10, 'each applied by the watcher')
  t.equal(p.sy.live.current.revision, 11)
})

t.test('one of two targets killed and restarted under load', async t => {
  const second = await startBackend('stable-2')
  const port = second.port
  const p = await startWith({
    backends: { stable: { targets: [stable.url, second.url], outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '500ms' } } },
    routes: [{ name: 'web', to: 'stable' }]
  })
  let revived: Backend | undefined
  t.teardown(async () => { await p.close(); await revived?.close() })
  let step = 0
  const r = await runLoad({
    total: TOTAL,
    target: () => p.sy.proxyUrl,
    progress: {
      every: TOTAL / 4,
      fn: async () => {
        step++
        if (step === 1) await second.close() // kills its open connections too
        if (step === 2) revived = await startBackend('stable-2', port)
      }
    }
  })
  report(t, 'target killed and restarted', r)
  t.ok((r.byBackend['stable-2'] ?? 0) > 0, `the restarted target served again (${r.byBackend['stable-2'] ?? 0})`)
})

t.test('every target of the canary killed, fallback: stable', async t => {
  const doomed = await startBackend('canary-doomed')
  const p = await startWith({
    backends: {
      stable: { targets: [stable.url] },
      canary: { targets: [doomed.url], fallback: 'stable', outlierDetection: { consecutiveFailures: 2, baseEjectionTime: '30s' } }
    },
    routes: [{ name: 'web', split: { stable: 50, canary: 50 } }]
  })
  t.teardown(() => p.close())
  let killed = false
  const r = await runLoad({
    total: TOTAL,
    target: () => p.sy.proxyUrl,
    progress: { every: TOTAL / 4, fn: async () => { if (!killed) { killed = true; await doomed.close() } } }
  })
  report(t, 'canary killed', r)
  t.ok((r.byBackend['canary-doomed'] ?? 0) > 0, 'the canary served before it died')
  const status = await admin<{ backends: Array<{ name: string, targets: Array<{ health: string }> }> }>(p.sy.adminUrl, 'GET', '/admin/status')
  t.same(status.body.backends.find(b => b.name === 'canary')?.targets.map(x => x.health), ['ejected'])
})

t.test('SIGTERM under load: a second instance takes new requests, in-flight ones complete', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-load-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    shutdown: { drainDelay: '1s', timeout: '10s' },
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 50, canary: 50 } }]
  }))
  const ready = /"msg":"switchyard started"/
  const a = await startCli(['serve', '--config', file, '--state-dir', await mkdtemp(join(tmpdir(), 'sy-a-'))], ready, { env: { LOG_LEVEL: 'info' } })
  const b = await startCli(['serve', '--config', file, '--state-dir', await mkdtemp(join(tmpdir(), 'sy-b-'))], ready, { env: { LOG_LEVEL: 'info' } })
  t.teardown(() => { for (const c of [a.child, b.child]) if (c.exitCode === null) c.kill('SIGKILL') })
  const instances = [a, b].map(x => ({ ...(JSON.parse(x.match.input) as { proxy: string, admin: string }), ready: true }))

  // A load balancer's view, like Kubernetes Endpoints: instances whose /readyz passes.
  let polling = true
  const poller = (async () => {
    while (polling) {
      for (const inst of instances) {
        try {
          const res = await request(inst.admin + '/readyz')
          inst.ready = res.statusCode === 200
          await res.body.dump()
        } catch {
          inst.ready = false
        }
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  })()
  let rr = 0
  const exitA = once(a.child, 'exit') as Promise<[number | null]>
  const r = await runLoad({
    total: TOTAL,
    target: () => {
      const live = instances.filter(i => i.ready)
      return (live[rr++ % live.length] ?? instances[1])!.proxy
    },
    progress: { every: TOTAL / 3, fn: () => { if (a.child.exitCode === null && a.child.signalCode === null && !a.child.killed) a.child.kill('SIGTERM') } }
  })
  polling = false
  await poller
  report(t, 'SIGTERM with a second instance', r)
  const [code] = await exitA
  t.equal(code, 0, 'the stopped instance exited 0')
  t.equal(b.child.exitCode, null, 'the other one still runs')
  b.child.kill('SIGTERM')
  await once(b.child, 'exit')
})
