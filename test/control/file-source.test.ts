/**
 * The config file as a config source, under the control plane (no
 * sockets): compare-and-swap writes that never overwrite a hand edit
 * waiting to be fixed (unless forced), a failure cleared once the file
 * holds the running revision again, the hash deciding before any parse,
 * restart-only settings reported as pending, and how sources are opened.
 */
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { stringify } from 'yaml'
import { LiveConfig } from '../../src/control/live-config.js'
import { Operations } from '../../src/control/operations.js'
import type { ConfigSource } from '../../src/control/source.js'
import { fleetSide } from '../../src/control/sources/fleet-source.js'
import { openSource } from '../../src/control/sources/open.js'
import { ConfigError, SwitchyardError } from '../../src/errors.js'

const configText = (canary: number, extra: Record<string, unknown> = {}): string => stringify({
  ...extra,
  backends: { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } },
  routes: [{ name: 'web', split: { stable: 100 - canary, canary } }]
})

async function control (text: string, wrap: (s: ConfigSource) => ConfigSource = s => s): Promise<{ live: LiveConfig, ops: Operations, file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-source-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, text)
  const source = wrap(await openSource(file, {}))
  const live = new LiveConfig(source, undefined, pino({ level: 'silent' }))
  await live.start(await LiveConfig.load(source))
  return { live, ops: new Operations(live), file }
}

t.test('an edit never overwrites a hand edit that did not go live; force does', async t => {
  const { live, ops, file } = await control(configText(10))
  const handEdit = configText(20).replace('canary: 20', 'canary: twenty')
  await writeFile(file, handEdit)
  t.equal((await live.reload('file')).result, 'failure', 'the hand edit is invalid: it does not go live')

  const refused = await ops.setWeights('web', { canary: 30 }, { origin: 'api' }).catch((e: unknown) => e) as SwitchyardError
  t.type(refused, SwitchyardError)
  t.equal(refused.code, 'SY_ERR_ADMIN_FILE_CHANGED')
  t.match(refused.message, /no longer holds the running revision/)
  t.equal(await readFile(file, 'utf8'), handEdit, 'the hand edit is still there to be fixed')
  t.equal(live.current.revision, 1)

  const forced = await ops.setWeights('web', { canary: 30 }, { origin: 'api', force: true })
  t.same([forced.revision, forced.changed], [2, true])
  t.equal(await readFile(file, 'utf8'), configText(30))
  t.equal(live.lastError, undefined, 'the forced revision supersedes the failed reload')
})

t.test('a failed reload is cleared when the file holds the running revision again', async t => {
  const { live, file } = await control(configText(10))
  await writeFile(file, 'routes: [ {')
  await live.reload('file')
  t.ok(live.lastError?.problems.every(p => p.code === 'SY_ERR_CONFIG_PARSE'), 'the parse failure is kept for status')
  await writeFile(file, configText(10))
  const back = await live.reload('file')
  t.equal(back.result, 'unchanged')
  t.equal(live.lastError, undefined, 'status no longer says the last reload failed')
  t.equal(live.current.revision, 1)
})

t.test('a document whose hash is the running one is not parsed again', async t => {
  // A source that returns the running hash with text that would not even parse: only the hash can say "unchanged".
  let lie = false
  const { live } = await control(configText(10), s => ({
    ...s,
    location: s.location,
    format: s.format,
    history: s.history,
    read: async () => {
      const r = await s.read()
      return lie && r.ok ? { ...r, text: 'routes: [ {' } : r
    },
    watch: async fn => await s.watch(fn),
    write: async (text, expected) => await s.write(text, expected)
  }))
  lie = true
  t.equal((await live.reload('sighup')).result, 'unchanged')
  t.equal(live.lastError, undefined)
})

t.test('restart-only settings: served, and reported as pending until they are back', async t => {
  const { live, ops } = await control(configText(10, { listen: { port: 8080 } }))
  t.same(live.pendingRestart, [])
  await ops.applyConfig(configText(10, { listen: { port: 8081 }, log: { level: 'debug' } }), { origin: 'api' })
  t.same(live.pendingRestart, ['listen', 'log'])
  await ops.setWeights('web', { canary: 20 }, { origin: 'api' })
  t.same(live.pendingRestart, ['listen', 'log'], 'still pending after an unrelated change')
  await ops.applyConfig(configText(20, { listen: { port: 8080 } }), { origin: 'api' })
  t.same(live.pendingRestart, [], 'back to what is bound')
})

t.test('opening a source: a path or file:// is the file; an unknown scheme is a located read problem', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-open-'))
  const file = join(dir, 'a b.json')
  await writeFile(file, JSON.stringify({ backends: { a: { targets: ['http://10.0.0.1:80'] } }, routes: [{ name: 'r', to: 'a' }] }))
  const byPath = await openSource(file, {})
  const byUrl = await openSource(new URL(`file://${file}`).href, { stateDir: '/var/lib/switchyard' })
  t.same([byPath.location, byPath.format, byUrl.location], [file, 'json', file])
  t.equal(byPath.history.location, join(dir, 'a b.json.history.json'), 'history next to the file by default')
  t.equal(byUrl.history.location, '/var/lib/switchyard/a b.json.history.json', 'or in the state directory')
  const err = await openSource('zookeeper://127.0.0.1:2181/switchyard', {}).catch((e: unknown) => e) as ConfigError
  t.type(err, ConfigError)
  t.same(err.problems.map(p => [p.code, p.message]), [['SY_ERR_CONFIG_READ', 'no config source for zookeeper:// (zookeeper://127.0.0.1:2181/switchyard)']])
  // A fleet's store is its own folder (sources/etcd/, sources/kubernetes/): opening one connects to nothing yet.
  const etcd = await openSource('etcd://127.0.0.1:2379,127.0.0.1:22379/sy', {})
  t.teardown(() => fleetSide(etcd)?.store.close())
  t.same([etcd.location, etcd.format, etcd.history.location], ['etcd://127.0.0.1:2379,127.0.0.1:22379/sy', 'yaml', 'etcd://127.0.0.1:2379,127.0.0.1:22379/sy (history)'])
})
