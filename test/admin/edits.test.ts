/**
 * The admin API as an adapter over the operations service, through
 * fastify's inject() (no sockets, no data plane): coded errors with their
 * HTTP status, `?force`, the status body's pending restart and cleared
 * failures, and the media types it takes.
 */
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { stringify } from 'yaml'
import { buildAdminApp } from '../../src/admin/server.js'
import { LiveConfig } from '../../src/control/live-config.js'
import { Operations } from '../../src/control/operations.js'
import { RolloutController } from '../../src/control/rollouts/controller.js'
import { metricsReader } from '../../src/control/rollouts/readings.js'
import { MemoryRolloutStore } from '../../src/control/rollouts/store.js'
import { openSource } from '../../src/control/sources/open.js'

const configText = (canary: number, listenPort = 8080): string => stringify({
  listen: { port: listenPort },
  backends: { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } },
  routes: [{ name: 'web', split: { stable: 100 - canary, canary } }]
})

async function adminOver (text: string): Promise<{ app: FastifyInstance, live: LiveConfig, file: string }> {
  const file = join(await mkdtemp(join(tmpdir(), 'switchyard-edits-')), 'sy.yaml')
  await writeFile(file, text)
  const source = await openSource(file, {})
  const logger = pino({ level: 'silent' })
  const live = new LiveConfig(source, undefined, logger)
  await live.start(await LiveConfig.load(source))
  const operations = new Operations(live)
  const rollouts = new RolloutController({ live, operations, logger, store: new MemoryRolloutStore(), counters: metricsReader(async () => []) })
  const app = buildAdminApp({
    logger,
    readiness: { ready: () => true, reason: () => '' },
    api: { live, operations, rollouts, plane: { targets: async () => [] }, metrics: async () => new Registry(), auth: { token: undefined, loopback: true } }
  })
  t.teardown(() => app.close())
  return { app, live, file }
}

t.test('a hand edit waiting to be fixed: 409 SY_ERR_ADMIN_FILE_CHANGED, then ?force=true overwrites', async t => {
  const { app, live, file } = await adminOver(configText(10))
  const handEdit = configText(20).replace('canary: 20', 'canary: -20')
  await writeFile(file, handEdit)
  await live.reload('file')
  const status = (await app.inject({ url: '/admin/status' })).json<{ lastReloadError: { problems: Array<{ code: string }> } | null }>()
  t.same(status.lastReloadError?.problems.map(p => p.code), ['SY_ERR_CONFIG_SCHEMA'])

  const refused = await app.inject({ method: 'PUT', url: '/admin/routes/web/weights', payload: { weights: { canary: 30 } } })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json<{ error: string }>().error, 'SY_ERR_ADMIN_FILE_CHANGED')
  t.equal(await readFile(file, 'utf8'), handEdit, 'nothing overwritten')

  const bad = await app.inject({ method: 'PUT', url: '/admin/routes/web/weights?force=maybe', payload: { weights: { canary: 30 } } })
  t.same([bad.statusCode, bad.json<{ error: string }>().error], [400, 'SY_ERR_ADMIN_BAD_REQUEST'])

  const forced = await app.inject({ method: 'PUT', url: '/admin/routes/web/weights?force=true', payload: { weights: { canary: 30 } } })
  t.equal(forced.statusCode, 200)
  t.same(forced.json(), { revision: 2, sha256: live.current.table.sha256, changed: true, summary: 'web: stable 90→70, canary 10→30' })
  t.equal(forced.headers.etag, '"2"')
  t.equal(await readFile(file, 'utf8'), configText(30))
  t.equal((await app.inject({ url: '/admin/status' })).json<{ lastReloadError: unknown }>().lastReloadError, null)
})

t.test('status: a failure clears when the file is put back; a listen change is pending restart', async t => {
  const { app, live, file } = await adminOver(configText(10))
  const status = async (): Promise<{ lastReloadError: unknown, pendingRestart: string[] }> => (await app.inject({ url: '/admin/status' })).json()
  await writeFile(file, configText(10).replace('stable:', 'stabel:'))
  await live.reload('file')
  t.not((await status()).lastReloadError, null, 'the failed reload is reported')
  await writeFile(file, configText(10))
  await live.reload('file')
  t.equal((await status()).lastReloadError, null, 'the file holds the running revision again: nothing is failing')

  t.same((await status()).pendingRestart, [])
  const moved = await app.inject({ method: 'PUT', url: '/admin/config', headers: { 'content-type': 'application/yaml' }, payload: configText(10, 9090) })
  t.equal(moved.statusCode, 200)
  t.same((await status()).pendingRestart, ['listen'], 'recorded, and reported as waiting for a restart')
})

t.test('media types: YAML and JSON are taken, text/plain is 415 as documented', async t => {
  const { app } = await adminOver(configText(10))
  const plain = await app.inject({ method: 'PUT', url: '/admin/config', headers: { 'content-type': 'text/plain' }, payload: configText(20) })
  t.same([plain.statusCode, plain.json<{ error: string }>().error], [415, 'SY_ERR_ADMIN_MEDIA_TYPE'])
  const yaml = await app.inject({ method: 'PUT', url: '/admin/config', headers: { 'content-type': 'application/yaml' }, payload: configText(20) })
  t.equal(yaml.statusCode, 200)
  const json = await app.inject({ method: 'PUT', url: '/admin/config', payload: { backends: { a: { targets: ['http://10.0.0.1:80'] } }, routes: [{ name: 'web', to: 'a' }] } })
  t.equal(json.statusCode, 200)
})
