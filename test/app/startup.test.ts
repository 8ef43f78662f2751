/**
 * Starting switchyard through the composition root: readiness means the
 * config is watched (Kubernetes sends traffic, and operators their
 * changes, on readiness), so a change made right after /readyz first says
 * 200 goes live.
 */
import t from 'tap'
import { mkdtemp, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { request } from 'undici'
import { stringify } from 'yaml'
import { createSwitchyard } from '../../src/app/switchyard.js'
import { deadPort, startBackends } from '../helpers/backends.js'

const { a, b } = await startBackends(t, 'a', 'b')

t.test('a change right after /readyz first answers 200 goes live', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-ready-'))
  // Many entries beside the config make the watcher slow to get ready: the window a too-early readiness would open.
  await Promise.all(Array.from({ length: 3000 }, async (_, i) => await writeFile(join(dir, `other-${i}.txt`), '')))
  const adminPort = await deadPort()
  const configTo = (backend: string): string => stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: adminPort },
    shutdown: { drainDelay: '0s' },
    backends: { a: { targets: [a.url] }, b: { targets: [b.url] } },
    routes: [{ name: 'r', to: backend }]
  })
  const file = join(dir, 'switchyard.yaml')
  await writeFile(file, configTo('a'))

  const starting = createSwitchyard({ configPath: file, logger: pino({ level: 'silent' }) })
  let failed = false
  starting.catch(() => { failed = true })
  let status = 0
  while (status !== 200 && !failed) {
    status = await request(`http://127.0.0.1:${adminPort}/readyz`).then(async r => { await r.body.dump(); return r.statusCode }, () => 0)
  }
  // The operator's change, as soon as switchyard says it is ready.
  await writeFile(join(dir, '.tmp'), configTo('b'))
  await rename(join(dir, '.tmp'), file)
  const sy = await starting
  t.teardown(() => sy.close())

  for (let i = 0; i < 300 && sy.live.current.revision === 1; i++) await sleep(10)
  t.equal(sy.live.current.revision, 2, 'the change was seen')
  t.equal(sy.live.current.table.routes[0]?.destination.kind === 'to' && sy.live.current.table.routes[0].destination.backend.name, 'b')
})
