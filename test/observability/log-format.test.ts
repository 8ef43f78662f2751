/** `log.format: pretty`: human-readable lines (pino-pretty) for the main log and the access log. */
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { openLogStream, PRETTY_MAIN } from '../../src/observability/log-streams.js'
import { startBackends } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

const dir = await mkdtemp(join(tmpdir(), 'switchyard-pretty-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

t.test('a pretty stream writes readable lines, not JSON', async t => {
  const file = join(dir, 'main.log')
  const stream = openLogStream(file, { sync: true, pretty: PRETTY_MAIN })
  pino({ base: { service: 'switchyard' } }, stream).warn({ backend: 'canary' }, 'target out of rotation')
  await stream.close()
  const text = await readFile(file, 'utf8')
  t.match(text, /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: target out of rotation\n\s+backend: "canary"\n$/)
  t.notMatch(text, /service/, 'no pid/hostname/service noise')
})

t.test('the access log in the pretty format: one readable line per request', async t => {
  const { app } = await startBackends(t, 'app')
  const file = join(dir, 'access.log')
  const p = await startWith({
    log: { format: 'pretty' },
    accessLog: { destination: file },
    backends: { app: { version: '2.1', targets: [app.url] } },
    routes: [{ name: 'web', match: { path: { prefix: '/x' } }, to: 'app' }]
  })
  t.teardown(() => p.close())
  const ok = await p.get('/x/y?q=1')
  const missing = await p.get('/nothing')
  await p.sy.close()
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n')
  const host = new URL(p.sy.proxyUrl).host
  t.equal(lines.length, 2)
  t.match(lines[0], new RegExp(`^\\[\\d{2}:\\d{2}:\\d{2}\\.\\d{3}\\] INFO: GET ${host}/x/y 200 [0-9.]+ms route=web rule=split backend=app@2\\.1 target=${app.url} client=127\\.0\\.0\\.1 id=${String(ok.headers['x-request-id'])}$`))
  t.match(lines[1], new RegExp(`INFO: GET ${host}/nothing 404 [0-9.]+ms rejected=no_route client=127\\.0\\.0\\.1 id=${String(missing.headers['x-request-id'])}$`))
})
