/**
 * The plane link contract (link.case.ts) against two node:cluster workers
 * running the real worker entry (the built CLI, which runs a data plane
 * when it is a cluster worker), as `serve --workers 2` does; and the
 * workers' metrics named by worker id, which the console's totals rely on
 * to tell a restarted worker from the others (aggregated-cells.ts).
 */
import t from 'tap'
import cluster from 'node:cluster'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { IpcLink } from '../../src/link/ipc.js'
import { deadPort } from '../helpers/backends.js'
import { linkSuite, update } from './link.case.js'

const exec = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
// The workers run dist/ JavaScript, as `serve --workers` starts them: without the TypeScript hooks this test
// process runs under (tap's TypeScript plugin loads ts-node in every child given its flags: ~1.7 s of CPU each).
cluster.setupPrimary({ execArgv: process.execArgv.filter(a => !/@tapjs\/typescript|ts-loader/.test(a)) })

linkSuite(t, () => new IpcLink({ workers: 2, logger: pino({ level: 'silent' }), exec }))

t.test('metrics: one reading per worker with its id; a replacement worker answers under a new id', async t => {
  const first = update(1, { backends: { a: { targets: [`http://127.0.0.1:${await deadPort()}`] } }, routes: [{ name: 'r', to: 'a' }] })
  const link = new IpcLink({ workers: 2, logger: pino({ level: 'silent' }), exec })
  t.teardown(() => link.stop(false))
  await link.apply(first)
  await link.start()
  const before = (await link.metrics()).map(r => r.worker).sort()
  t.equal(new Set(before).size, 2, 'two readings, two ids')
  const replaced = once(link, 'listening')
  cluster.workers?.[before[0] as number]?.process.kill('SIGKILL')
  await replaced
  const after = (await link.metrics()).map(r => r.worker).sort()
  t.equal(after.length, 2)
  t.notOk(after.includes(before[0] as number), 'the dead worker\'s id is gone')
  t.ok(after.includes(before[1] as number), 'the other keeps its id')
})
