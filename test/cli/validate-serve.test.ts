/**
 * `switchyard validate` (in process), and `switchyard serve` as a real
 * process: exit codes of the binary, signals, one start log line.
 */
import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { stringify } from 'yaml'
import { request } from 'undici'
import { fileURLToPath } from 'node:url'
import { runCli, spawnCli, startCli } from '../helpers/cli.js'
import { startBackend } from '../helpers/backends.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
const defaultConfig = fileURLToPath(new URL('../../config/switchyard.yaml', import.meta.url))

t.test('validate: a valid file prints one line and exits 0', async t => {
  const r = await runCli(['validate', defaultConfig])
  t.equal(r.code, 0)
  t.match(r.stdout, /^.*switchyard\.yaml: ok — 1 route \(testpage\), 2 backends \(stable@0\.5×2, canary@0\.6×1\), sha256 [0-9a-f]{12}\n$/)
  t.equal(r.stderr, '')
})

t.test('validate: an invalid file lists every problem with its location and exits 1', async t => {
  const file = fixture('bad-many.yaml')
  const r = await runCli(['validate', file])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.same(r.stderr.trimEnd().split('\n'), [
    `${file}:11:5: routes[0].splt: unknown field "splt" (known: name, match, rules, to, split, sticky, timeout, idleTimeout, retries, headers, stripPrefix, rewriteLocation, maxBodyBytes, grpc) [SY_ERR_CONFIG_SCHEMA]`,
    `${file}:19:14: routes[0].split.stable: must be >= 0 [SY_ERR_CONFIG_SCHEMA]`,
    `${file}:8:16: backends.canary.targets[0]: scheme must be http or https, not ftp [SY_ERR_CONFIG_TARGET_URL]`,
    `${file}:15:9: routes[0].rules[0].to: unknown backend "canry" (did you mean "canary"?) [SY_ERR_CONFIG_UNKNOWN_BACKEND]`,
    `${file}:17:30: routes[0].rules[1].when.userAgent.regex: invalid regular expression: Invalid regular expression: /Android(/: Unterminated group [SY_ERR_CONFIG_REGEX]`,
    `${file}: invalid — 5 problems`
  ])
})

t.test('validate --json', async t => {
  const r = await runCli(['validate', '--json', fixture('bad-yaml.yaml')])
  t.equal(r.code, 1)
  const out = JSON.parse(r.stdout) as { ok: boolean, problems: Array<{ code: string }> }
  t.equal(out.ok, false)
  t.equal(out.problems[0]?.code, 'SY_ERR_CONFIG_PARSE')
})

t.test('serve: an invalid config is a clear error and a non-zero exit', async t => {
  const r = await spawnCli(['serve', '--config', fixture('bad-many.yaml')])
  t.equal(r.code, 2)
  t.match(r.stderr, /routes\[0\]\.splt: unknown field/)
  t.match(r.stderr, /switchyard: not started, the config is invalid \(5 problems\)/)
})

t.test('serve: SWITCHYARD_CONFIG, one start log line, SIGHUP reload, SIGTERM exits 0', async t => {
  const a = await startBackend('a')
  const b = await startBackend('b')
  t.teardown(async () => { await a.close(); await b.close() })
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'))
  const file = join(dir, 'sy.yaml')
  const config = (to: string): string => stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { a: { targets: [a.url] }, b: { targets: [b.url] } },
    routes: [{ name: 'r', to }],
    // Drain is proxy/shutdown.test.ts's subject; here SIGTERM only has to end the process with 0.
    shutdown: { drainDelay: '0s' }
  })
  await writeFile(file, config('a'))
  const { child, lines, match } = await startCli(['serve'], /"msg":"switchyard started"/, { env: { SWITCHYARD_CONFIG: file } })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, config: string, routes: string[], backends: Record<string, unknown> }
  t.equal(started.config, file)
  t.same(started.routes, ['r'])
  t.same(Object.keys(started.backends), ['a', 'b'])
  const get = async (): Promise<string> => {
    const res = await request(started.proxy + '/')
    await res.body.dump()
    return String(res.headers['x-backend'])
  }
  t.equal(await get(), 'a')

  // SIGHUP re-reads the file (the watcher would too; a signal must work on its own).
  await writeFile(file, config('b'))
  child.kill('SIGHUP')
  let routed = 'a'
  for (let i = 0; i < 200 && routed !== 'b'; i++) {
    routed = await get()
    if (routed !== 'b') await new Promise(resolve => setTimeout(resolve, 10))
  }
  t.equal(routed, 'b')
  // The line is written once the revision is recorded, just after the swap.
  for (let i = 0; i < 200 && !lines.some(l => l.includes('"msg":"config reloaded"')); i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(lines.filter(l => l.includes('"msg":"config reloaded"')).length, 1, 'one log line per reload')
  t.equal(lines.filter(l => l.includes('"signal":"SIGHUP"')).length, 1, 'the SIGHUP is logged')
  t.notOk(lines.some(l => l.includes('"url"') || l.includes('"req"')), 'no per-request log lines')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0)
})

t.test('serve --demo on the default config: demo backends answer through the proxy', async t => {
  // The shipped config with its listeners on free ports and its three targets
  // moved to free ports, so the test cannot collide with anything running.
  const { readFile } = await import('node:fs/promises')
  const { deadPort } = await import('../helpers/backends.js')
  let text = await readFile(defaultConfig, 'utf8')
  text = text.replace('{ host: 0.0.0.0, port: 8080 }', '{ host: 127.0.0.1, port: 0 }').replace('{ host: 127.0.0.1, port: 9901 }', '{ host: 127.0.0.1, port: 0 }')
  for (const port of ['9001', '9002', '9003']) text = text.replace(`127.0.0.1:${port}`, `127.0.0.1:${await deadPort()}`)
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-demo-'))
  const file = join(dir, 'switchyard.yaml')
  await writeFile(file, text)
  const { child, match } = await startCli(['serve', '--demo', '--config', file], /"msg":"switchyard started"/)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const proxy = (JSON.parse(match.input) as { proxy: string }).proxy
  const say = async (headers: Record<string, string> = {}): Promise<string> => await (await request(proxy + '/', { headers })).body.text()
  t.match(await say({ 'x-canary': 'always' }), /^I am: 127\.0\.0\.1:\d+, the version is: 0\.6\n$/)
  t.match(await say({ cookie: 'canary=never' }), /^I am: 127\.0\.0\.1:\d+, the version is: 0\.5\n$/)
  const versions = new Set<string>()
  for (let i = 0; i < 200; i++) versions.add(/version is: (\S+)/.exec(await say())?.[1] ?? '')
  t.same([...versions].sort(), ['0.5', '0.6'], 'the 90/10 default split reaches both versions')
  // Ctrl-C, as a user of --demo stops it: at once, no drain.
  child.kill('SIGINT')
  await once(child, 'exit')
})

t.test('serve: a port in use is a clear error and the process exits', async t => {
  const { createServer } = await import('node:net')
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => blocker.close())
  const taken = (blocker.address() as import('node:net').AddressInfo).port
  const a = await startBackend('a')
  t.teardown(() => a.close())
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-port-'))
  for (const [which, listen, admin] of [['proxy', taken, 0], ['admin', 0, taken]] as const) {
    const file = join(dir, `${which}.yaml`)
    await writeFile(file, stringify({
      listen: { host: '127.0.0.1', port: listen },
      admin: { host: '127.0.0.1', port: admin },
      backends: { a: { targets: [a.url] } },
      routes: [{ name: 'r', to: 'a' }]
    }))
    const r = await spawnCli(['serve', '--config', file])
    t.equal(r.code, 1, `${which} port taken: exit 1`)
    t.match(r.stderr, /switchyard: not started: .*EADDRINUSE/, `${which} port taken: says why`)
  }
})
