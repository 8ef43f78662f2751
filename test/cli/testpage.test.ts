/** `switchyard testpage`: the demo backend the Kubernetes examples run. */
import t from 'tap'
import { once } from 'node:events'
import { request } from 'undici'
import { runCli, startCli } from '../helpers/cli.js'

t.test('answers with its address and version, and exits 0 on SIGTERM', async t => {
  const { child, match } = await startCli(['testpage', '0.6', '--host', '127.0.0.1', '--port', '0'], /^testpage 0\.6 listening on (http:\/\/127\.0\.0\.1:(\d+))$/)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const res = await request(`${match[1] ?? ''}/`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-version'], '0.6')
  t.equal(await res.body.text(), `I am: 127.0.0.1:${match[2] ?? ''}, the version is: 0.6\n`)
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  t.same(await exited, [0, null])
})

t.test('a bad port is an error, not a random one', async t => {
  const r = await runCli(['testpage', '0.5', '--port', 'http'])
  t.equal(r.code, 1)
  t.match(r.stderr, /^error: option '--port <port>' argument 'http' is invalid\. --port must be 0\.\.65535\n/)
})
