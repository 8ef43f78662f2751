/** `--store` on the CLI: what it refuses before touching anything; and a replica starting on an edit made outside switchyard. */
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { stringify } from 'yaml'
import { kubeHarness, startReplica } from '../helpers/fleet.js'
import { admin } from '../helpers/admin.js'

t.test('a --store that is not a store URL is refused, by serve and by the edit verbs', async t => {
  const edit = await runCli(['set-weight', 'web', 'canary=5', '--store', './switchyard.yaml'])
  t.equal(edit.code, 1)
  t.match(edit.stderr, /--store \.\/switchyard\.yaml: expected etcd:\/\/HOST:PORT.* or kubernetes:\/\/NAMESPACE\/CONFIGMAP/)
  const serve = await runCli(['serve', '--config', 'config/switchyard.yaml', '--store', 'redis://127.0.0.1/x'])
  t.equal(serve.code, 1)
  t.match(serve.stderr, /not started: --store redis:\/\/127\.0\.0\.1\/x: unknown scheme redis:\/\//)
})

t.test('an edit of an empty store says how to seed it, and writes nothing', async t => {
  const h = await kubeHarness()
  t.teardown(() => h.close())
  const r = await runCli(['undo', '--to-revision', '1', '--store', h.url('empty')], { env: h.env })
  t.equal(r.code, 1)
  t.match(r.stderr, /holds no routing yet: start a replica with --config FILE to seed it/)
  const store = h.open('empty')
  t.teardown(() => store.close())
  t.equal(await store.read(), undefined, 'the store is still empty')
})

t.test('a replica that starts on a text edited outside switchyard adopts it as the next revision', async t => {
  const h = await kubeHarness()
  t.teardown(() => h.close())
  const routing = (canary: number): Record<string, unknown> => ({ backends: { stable: { targets: ['http://127.0.0.1:9'] }, canary: { targets: ['http://127.0.0.1:9'] } }, routes: [{ name: 'web', split: { stable: 100 - canary, canary } }] })
  const store = h.open('outside')
  t.teardown(() => store.close())
  t.same(await store.createIfAbsent(stringify(routing(10))), { ok: true, revision: 1 })
  await h.editExternally('outside', stringify(routing(40)))
  const r = await startReplica(h, 'outside', 'A', routing(0))
  t.teardown(() => r.close())
  t.equal(r.sy.live.current.revision, 2, 'the outside edit became revision 2, not the seed of the local file')
  t.same((r.sy.live.current.table.config.routes[0] as { split: unknown }).split, { stable: 60, canary: 40 })
  const history = (await admin<{ entries: Array<{ revision: number, summary: string }> }>(r.sy.adminUrl, 'GET', '/admin/history')).body.entries
  t.same(history.map(e => [e.revision, e.summary]), [[2, 'edited in the store outside switchyard']], 'recorded once, by the replica that adopted it')
  t.same(await store.read().then(d => [d?.revision, d?.external]), [2, false], 'the store holds it as revision 2')
})
