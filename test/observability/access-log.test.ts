/**
 * The access log through a real switchyard and real backends: one line per
 * request with its fields and the request ID the backend saw, for a
 * proxied request, a 502, a 504, a 408 and the other rejections; the main
 * log's warn lines for the errors switchyard produced; the modes; no
 * credentials in any line.
 */
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { connect as h2connect } from 'node:http2'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { stringify } from 'yaml'
import { deadPort } from '../helpers/backends.js'
import { parseRaw, rawRequest, type RawResponse } from '../helpers/raw.js'
import { startWith, withTestDefaults } from '../helpers/switchyard.js'
import { warnAccessLogPlacement } from '../../src/observability/access-log.js'

/** A backend that records the request ID each path arrived with; `/delay/MS…` answers after MS. */
async function startRecorder (): Promise<{ url: string, seen: Map<string, string | undefined> }> {
  const seen = new Map<string, string | undefined>()
  const server = createServer((req, res) => {
    seen.set(req.url ?? '', req.headers['x-request-id'] as string | undefined)
    req.resume()
    const delay = /^\/delay\/(\d+)/.exec(req.url ?? '')
    const answer = (): void => { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n') }
    if (delay === null) answer()
    else setTimeout(answer, Number(delay[1])).unref()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

function memoryLogger (): { logger: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } })
  return { logger: pino({ level: 'debug' }, sink), lines }
}

async function readLines (file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8')
  return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
}

/** Sends the start of a head and then nothing, until switchyard answers and closes. */
async function slowHead (proxyUrl: string, text: string): Promise<RawResponse> {
  const url = new URL(proxyUrl)
  return await new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => { s.write(text) })
    let data = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { data += d })
    s.on('close', () => resolve(parseRaw(data)))
    s.on('error', reject)
  })
}

const recorder = await startRecorder()
// Log files live apart from the config directory, which closing a test switchyard removes.
const logs = await mkdtemp(join(tmpdir(), 'switchyard-access-'))
t.teardown(async () => { await rm(logs, { recursive: true, force: true }) })
const dead = `http://127.0.0.1:${await deadPort()}`

t.test('proxied, 502, 504, 408, 404, 431 and 400: one line each, with the ID the backend saw', async t => {
  const main = memoryLogger()
  const file = join(logs, 'access.log')
  const p = await startWith({
    listen: { host: '127.0.0.1', port: 0, headersTimeout: '500ms', maxHeaders: 10 },
    accessLog: { destination: file },
    backends: {
      app: { version: '1.2', targets: [recorder.url] },
      dead: { targets: [dead], outlierDetection: false },
      slow: { version: '3', targets: [recorder.url] }
    },
    routes: [
      { name: 'dead', match: { path: { prefix: '/dead' } }, to: 'dead', retries: false },
      { name: 'slow', match: { path: { prefix: '/delay' } }, to: 'slow', timeout: '200ms', retries: false },
      { name: 'app', match: { path: { prefix: '/app' } }, to: 'app', rules: [{ name: 'beta', when: { headers: { 'x-beta': { present: true } } }, to: 'app' }] }
    ]
  }, { logger: main.logger })
  t.teardown(() => p.close())

  const ok = await p.send({ path: '/app/ok?token=abc', headers: { authorization: 'Bearer secret-token', cookie: 'session=cookie-secret', 'user-agent': 'test-agent', 'x-beta': '1' } })
  const post = await p.send({ path: '/app/upload', method: 'POST', body: 'x'.repeat(1000) })
  const badGateway = await p.get('/dead/x')
  const timeout = await p.get('/delay/1000')
  const noRoute = await p.get('/nothing')
  const many = await p.get('/app/many', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`x-h${i}`, 'v'])))
  const slow = await slowHead(p.sy.proxyUrl, 'GET /app/slow HTTP/1.1\r\nHost: example.com\r\n')
  const malformed = await rawRequest(p.sy.proxyUrl, 'GET /app/bad?q=1 HTTP/1.1\r\nHost: example.com\r\nBad Header: y\r\n\r\n')
  t.same([ok.status, post.status, badGateway.status, timeout.status, noRoute.status, many.status, slow.status, malformed.status], [200, 200, 502, 504, 404, 431, 408, 400])
  await p.sy.close() // flushes the access log

  const lines = await readLines(file)
  const byId = new Map(lines.map(l => [l.requestId, l]))
  t.equal(lines.length, 8, 'one line per request')
  t.equal(byId.size, 8, 'eight different IDs')
  const idOf = (r: { headers: Record<string, unknown> }): unknown => r.headers['x-request-id']

  const okLine = byId.get(idOf(ok))
  t.equal(recorder.seen.get('/app/ok?token=abc'), idOf(ok), 'the backend saw the ID the client got')
  t.match(okLine, {
    level: 30,
    log: 'access',
    time: Number,
    method: 'GET',
    host: new URL(p.sy.proxyUrl).host,
    path: '/app/ok',
    status: 200,
    bytesIn: Number,
    bytesOut: Number,
    durationMs: Number,
    upstreamMs: Number,
    route: 'app',
    rule: 'beta',
    backend: 'app',
    version: '1.2',
    target: recorder.url,
    retries: 0,
    failover: false,
    client: '127.0.0.1',
    userAgent: 'test-agent'
  })
  t.equal(okLine?.query, undefined, 'no query unless asked for')
  t.equal(okLine?.failure, undefined)
  t.ok((okLine?.upstreamMs as number) <= (okLine?.durationMs as number))

  const postLine = byId.get(idOf(post))
  t.ok((postLine?.bytesIn as number) > 1000, 'bytes in count the body')
  t.equal(postLine?.rule, 'split')

  t.match(byId.get(idOf(badGateway)), { status: 502, route: 'dead', backend: 'dead', target: dead, failure: 'connect', retries: 0 })
  t.equal(byId.get(idOf(badGateway))?.upstreamMs, undefined, 'no upstream answer')
  t.match(byId.get(idOf(timeout)), { status: 504, route: 'slow', backend: 'slow', version: '3', target: recorder.url, failure: 'timeout' })
  t.equal(recorder.seen.get('/delay/1000'), idOf(timeout), 'the backend that timed out saw the same ID')
  t.match(byId.get(idOf(noRoute)), { status: 404, rejected: 'no_route', path: '/nothing', method: 'GET' })
  t.match(byId.get(idOf(many)), { status: 431, rejected: 'headers_too_large', path: '/app/many', method: 'GET', client: '127.0.0.1' })
  t.match(byId.get(idOf(slow)), { status: 408, rejected: 'timeout', client: '127.0.0.1', bytesOut: Number })
  t.match(byId.get(idOf(malformed)), { status: 400, rejected: 'malformed', method: 'GET', path: '/app/bad', host: 'example.com' })
  t.ok(typeof idOf(slow) === 'string' && typeof idOf(malformed) === 'string', 'parser rejections carry an ID too')

  const text = await readFile(file, 'utf8')
  t.notMatch(text, /secret-token|cookie-secret|token=abc/, 'no credentials, no query')

  // The main log: a warn with the cause for each error switchyard produced; the 404 only at debug.
  const warns = main.lines.filter(l => l.level === 40)
  const warnOf = (r: { headers: Record<string, unknown> }): Record<string, unknown> | undefined => warns.find(l => l.requestId === idOf(r))
  t.match(warnOf(badGateway), { msg: 'upstream connection failed', failure: 'connect', cause: 'ECONNREFUSED', backend: 'dead', target: dead, status: 502 })
  t.match(warnOf(timeout), { msg: 'upstream timed out', failure: 'timeout', cause: 'SY_ROUTE_TIMEOUT', status: 504 })
  t.match(warnOf(many), { msg: 'request refused: too many header fields (limit 10)', status: 431, reason: 'headers_too_large' })
  t.match(warnOf(slow), { status: 408, reason: 'timeout', cause: 'ERR_HTTP_REQUEST_TIMEOUT' })
  t.match(warnOf(malformed), { status: 400, reason: 'malformed', cause: 'HPE_INVALID_HEADER_TOKEN', path: '/app/bad' })
  t.equal(warnOf(noRoute), undefined)
  t.equal(warnOf(ok), undefined)
  t.match(main.lines.find(l => l.requestId === idOf(noRoute)), { level: 20, msg: 'no route matches this request' })
})

t.test('HTTP/2: two streams at once on one connection, each line with its own response body\'s bytes', async t => {
  const file = join(logs, 'access-h2.log')
  const p = await startWith({ accessLog: { destination: file }, backends: { app: { targets: [recorder.url] } }, routes: [{ name: 'app', to: 'app' }] })
  t.teardown(() => p.close())
  const session = h2connect(p.sy.proxyUrl)
  t.teardown(() => { session.close() })
  const exchange = async (path: string, body?: string): Promise<{ status: unknown, id: unknown }> => {
    const req = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path })
    req.end(body)
    const [headers] = await once(req, 'response') as [Record<string, unknown>]
    req.resume()
    await once(req, 'end')
    return { status: headers[':status'], id: headers['x-request-id'] }
  }
  // The recorder answers "ok\n" (3 bytes) after 50 ms, so both streams are open at once.
  const [get, post] = await Promise.all([exchange('/delay/50/a'), exchange('/delay/50/b', 'x'.repeat(1000))])
  t.same([get.status, post.status], [200, 200])
  await p.sy.close()
  const lines = await readLines(file)
  t.equal(lines.length, 2)
  for (const r of [get, post]) {
    const line = lines.find(l => l.requestId === r.id)
    t.equal(line?.bytesOut, 3, `${String(line?.path)}: its own response body, not the connection's bytes`)
    t.equal(line !== undefined && 'bytesIn' in line, false, 'no bytesIn (not counted per stream)')
  }
})

t.test('modes: errors only, sampled, off; query on request; changes apply on reload', async t => {
  const backends = { app: { targets: [recorder.url] } }
  const routes = [{ name: 'app', match: { path: { prefix: '/ok' } }, to: 'app' }]
  const p = await startWith({ backends, routes })
  t.teardown(() => p.close())
  const write = async (accessLog: Record<string, unknown>): Promise<void> => {
    await writeFile(p.configPath, stringify(withTestDefaults({ accessLog, backends, routes })))
    // The file watcher may have applied it first: then this reload finds it unchanged.
    t.not((await p.sy.live.reload('sighup')).result, 'failure')
  }
  const errors = join(logs, 'errors.log')
  const all = join(logs, 'all.log')
  const sampled = join(logs, 'sampled.log')

  await p.get('/ok/off') // no accessLog section: off
  await write({ mode: 'errors', destination: errors })
  await p.get('/ok/errors')
  await p.get('/missing/errors')
  await write({ mode: 'all', destination: all, query: true })
  await p.get('/ok/all?page=2&q=x')
  await p.get('/missing/all')
  await write({ mode: 'sampled', sampleRate: 0, destination: sampled })
  await p.get('/ok/sampled')
  await p.get('/missing/sampled')
  await write({ mode: 'off', destination: sampled })
  await p.get('/missing/off')
  await p.sy.close() // flushes the access log

  t.same((await readLines(errors)).map(l => [l.path, l.status]), [['/missing/errors', 404]], 'errors: 4xx and 5xx only')
  t.same((await readLines(all)).map(l => [l.path, l.query, l.status]), [['/ok/all', 'page=2&q=x', 200], ['/missing/all', undefined, 404]])
  t.same((await readLines(sampled)).map(l => [l.path, l.status]), [['/missing/sampled', 404]], 'sampled at 0: errors only; nothing once off')
})

t.test('an access log file in the watched config directory is warned about', async t => {
  const main = memoryLogger()
  const settings = { mode: 'all', sampleRate: 1, destination: '/etc/switchyard/access.log', query: false, pretty: false } as const
  t.equal(warnAccessLogPlacement(main.logger, '/etc/switchyard/switchyard.yaml', settings), true)
  t.match(main.lines[0], { level: 40, accessLog: '/etc/switchyard/access.log', msg: /config file's directory/ })
  t.equal(warnAccessLogPlacement(main.logger, '/etc/switchyard/switchyard.yaml', { ...settings, destination: '/var/log/switchyard/access.log' }), false)
  t.equal(warnAccessLogPlacement(main.logger, '/etc/switchyard/switchyard.yaml', { ...settings, destination: '/etc/switchyard/logs/access.log' }), false, 'a subdirectory is not watched')
  t.equal(warnAccessLogPlacement(main.logger, '/etc/switchyard/switchyard.yaml', { ...settings, destination: 'stdout' }), false)
  t.equal(warnAccessLogPlacement(main.logger, '/etc/switchyard/switchyard.yaml', { ...settings, mode: 'off' }), false)
  t.equal(main.lines.length, 1)
})
