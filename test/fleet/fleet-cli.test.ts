/** `--store` on the CLI: what it refuses before touching anything. */
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { kubeHarness } from '../helpers/fleet.js'

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
