/**
 * Slow and stuck clients, full pools: the client body timeout (408), the
 * route's body size limit (413), the bound on requests waiting for a busy
 * target's connections and on their wait (503/504), and the route timeout
 * counted from the request's arrival, on its own precise timer.
 */
import t, { type Test } from 'tap'
import { request } from 'undici'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startBackends, type EchoReply } from '../helpers/backends.js'
import { scrape } from '../helpers/exposition.js'
import { rawRequest } from '../helpers/raw.js'
import { startGateBackend, startSinkBackend, stalledUpload } from '../helpers/stalled.js'
import { admin } from '../helpers/admin.js'
import { startWith, type Running } from '../helpers/switchyard.js'

const { app } = await startBackends(t, 'app')
const sink = await startSinkBackend()
t.teardown(() => sink.close())

const quick = { drainDelay: '0s', timeout: '1s' }

/** Polls `check` until it holds (for state only visible through the admin API). */
async function waitFor (check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !await check(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

async function start (t: Test, config: Record<string, unknown>): Promise<Running> {
  const p = await startWith({ shutdown: quick, ...config })
  t.teardown(() => p.close())
  return p
}

t.test('a body that stops arriving gets 408 after bodyTimeout, its connection closes, and the upstream connection is free again', async t => {
  const p = await start(t, {
    listen: { host: '127.0.0.1', port: 0, bodyTimeout: '300ms' },
    backends: { app: { targets: [sink.url], connections: 1 } },
    routes: [{ name: 'r', to: 'app' }]
  })
  const stalled = stalledUpload(p.sy.proxyUrl)
  const answer = await stalled.closed
  t.equal(answer.status, 408)
  t.match(answer.body, /request body timed out: nothing received for 300ms/)
  t.equal(answer.headers.connection, 'close')
  // The single upstream connection the upload held is usable again.
  const next = await p.send({ path: '/after', method: 'POST', body: 'complete body' })
  t.equal(next.status, 200)
  t.same(next.json(), { bodyLength: 13 })
  t.equal(sink.aborted, 1, 'the upstream saw the stalled upload cut off')
  const m = await scrape(p.sy.adminUrl)
  t.equal(m.value('switchyard_requests_total', { route: 'r', backend: 'app', version: 'app', rule: 'split', method: 'POST', code: '408' }), 1)
  t.equal(m.sum('switchyard_upstream_errors_total'), 0, 'a slow client is not the backend\'s error')
})

t.test('a body that trickles (a byte more often than bodyTimeout) is not cut', async t => {
  const p = await start(t, {
    listen: { host: '127.0.0.1', port: 0, bodyTimeout: '400ms' },
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'r', to: 'app' }]
  })
  const url = new URL(p.sy.proxyUrl)
  const s = connect(Number(url.port), '127.0.0.1')
  await once(s, 'connect')
  let data = ''
  s.setEncoding('latin1').on('data', (d: string) => { data += d })
  s.write('POST /trickle HTTP/1.1\r\nHost: app.test\r\nContent-Length: 8\r\nConnection: close\r\n\r\n')
  for (let i = 0; i < 8; i++) {
    await new Promise(resolve => setTimeout(resolve, 150))
    s.write('x')
  }
  await once(s, 'close')
  t.match(data, /^HTTP\/1\.1 200 /, 'eight bytes over 1.2 s, never 400 ms apart')
  t.match(data, /"bodyLength":8/)
})

t.test('maxBodyBytes: a declared Content-Length over it gets 413 before anything is sent upstream', async t => {
  const p = await start(t, {
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'small', maxBodyBytes: 1024, to: 'app' }]
  })
  const before = app.count
  const big = await rawRequest(p.sy.proxyUrl, `POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1025\r\n\r\n${'x'.repeat(1025)}`)
  t.equal(big.status, 413)
  t.equal(big.body, 'request body larger than 1024 bytes (route small)\n')
  t.equal(big.headers.connection, 'close')
  t.equal(app.count, before, 'the backend never saw it')
  const fits = await p.send({ path: '/', method: 'POST', body: 'y'.repeat(1024) })
  t.equal(fits.status, 200)
  t.equal(fits.json<EchoReply>().bodyLength, 1024)
  const m = await scrape(p.sy.adminUrl)
  t.equal(m.value('switchyard_rejected_requests_total', { reason: 'body_too_large', code: '413' }), 1)
})

t.test('maxBodyBytes: a chunked body is cut with 413 once it passes the limit', async t => {
  const p = await start(t, {
    backends: { app: { targets: [sink.url] } },
    routes: [{ name: 'small', maxBodyBytes: 2048, to: 'app' }]
  })
  const chunk = (s: string): string => `${s.length.toString(16)}\r\n${s}\r\n`
  const over = await rawRequest(p.sy.proxyUrl, `POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(1500))}${chunk('b'.repeat(1500))}0\r\n\r\n`)
  t.equal(over.status, 413)
  t.equal(over.body, 'request body larger than 2048 bytes\n')
  t.equal(over.headers.connection, 'close')
  const under = await rawRequest(p.sy.proxyUrl, `POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk('a'.repeat(1000))}${chunk('b'.repeat(1000))}0\r\n\r\n`)
  t.equal(under.status, 200)
  t.same(JSON.parse(under.body), { bodyLength: 2000 })
  const m = await scrape(p.sy.adminUrl)
  t.equal(m.value('switchyard_requests_total', { route: 'small', backend: 'app', version: 'app', rule: 'split', method: 'POST', code: '413' }), 1)
  t.equal(m.sum('switchyard_upstream_errors_total'), 0)
})

t.test('a full queue: 503 at once, naming the backend and the limit; counted', async t => {
  const gate = await startGateBackend()
  t.teardown(() => gate.close())
  const p = await start(t, {
    backends: { app: { targets: [gate.url], connections: 1, maxPending: 1 } },
    routes: [{ name: 'r', to: 'app' }]
  })
  const holding = p.get('/holding')
  await gate.holding(1)
  const waiting = p.get('/waiting')
  await waitFor(async () => (await scrape(p.sy.adminUrl)).value('switchyard_upstream_queue_waiting', { backend: 'app', target: gate.url }) === 1)
  const refused = await p.get('/refused')
  t.equal(refused.status, 503)
  t.equal(refused.text, `upstream queue full: 1 connections busy and 1 requests waiting (maxPending 1, target ${gate.url}) (backend app)\n`)
  gate.release()
  t.equal((await holding).text, 'held /holding')
  t.equal((await waiting).text, 'held /waiting', 'the waiting request got the connection when it was free')
  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_upstream_queue_rejections_total', ['backend', 'target', 'reason']), { [`backend=app,target=${gate.url},reason=queue_full`]: 1 })
  t.equal(m.value('switchyard_upstream_queue_waiting', { backend: 'app', target: gate.url }), 0)
  t.equal(m.sum('switchyard_upstream_errors_total'), 0)
})

t.test('a wait longer than queueTimeout: 504, naming the limit; the connection holder is unaffected', async t => {
  const gate = await startGateBackend()
  t.teardown(() => gate.close())
  const p = await start(t, {
    backends: { app: { targets: [gate.url], connections: 1, queueTimeout: '200ms' } },
    routes: [{ name: 'r', to: 'app' }]
  })
  const holding = p.get('/holding')
  await gate.holding(1)
  const late = await p.get('/late')
  t.equal(late.status, 504)
  t.equal(late.text, `upstream busy: no connection free within the queueTimeout 200ms (1 connections, target ${gate.url}) (backend app)\n`)
  gate.release()
  t.equal((await holding).status, 200)
  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_upstream_queue_rejections_total', ['backend', 'reason']), { 'backend=app,reason=queue_timeout': 1 })
})

t.test('requests waiting for a target that a config change removes are still served', async t => {
  const gate = await startGateBackend()
  t.teardown(() => gate.close())
  const p = await start(t, {
    backends: { app: { targets: [gate.url], connections: 1 } },
    routes: [{ name: 'r', to: 'app' }]
  })
  const holding = p.get('/holding')
  await gate.holding(1)
  const waiting = p.get('/waiting')
  await waitFor(async () => (await scrape(p.sy.adminUrl)).value('switchyard_upstream_queue_waiting', { backend: 'app', target: gate.url }) === 1)
  const put = await admin(p.sy.adminUrl, 'PUT', '/admin/config', { raw: JSON.stringify({ backends: { app: { targets: [app.url] } }, routes: [{ name: 'r', to: 'app' }], listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, shutdown: quick }) })
  t.equal(put.status, 200, put.text)
  t.equal((await p.get('/new')).json<EchoReply>().name, 'app', 'new requests go to the new target')
  gate.release()
  t.equal((await holding).text, 'held /holding')
  t.equal((await waiting).text, 'held /waiting', 'the request that waited for the old target is served by it')
})

t.test('the route timeout counts from arrival: time waiting for a connection is part of it', async t => {
  const p = await start(t, {
    backends: { app: { targets: [app.url], connections: 1, queueTimeout: '0s' } },
    routes: [{ name: 'r', to: 'app', timeout: '500ms' }]
  })
  // The first holds the only connection for 350 ms; the second waits that
  // long, then needs 350 ms more: within the timeout per attempt, not overall.
  const first = p.get('/delay/350')
  const second = p.get('/delay/350')
  t.equal((await first).status, 200)
  const r = await second
  t.equal(r.status, 504)
  t.equal(r.text, 'upstream timed out (backend app)\n')
})

t.test('a request that waits out its whole route timeout for a connection gets the queue\'s 504', async t => {
  const p = await start(t, {
    backends: { app: { targets: [app.url], connections: 1, queueTimeout: '0s' } },
    routes: [
      { name: 'patient', match: { host: 'patient.test' }, to: 'app', timeout: '5s' },
      { name: 'r', to: 'app', timeout: '300ms' }
    ]
  })
  const holding = p.get('/delay/700', { host: 'patient.test' })
  await new Promise(resolve => setTimeout(resolve, 50))
  const starved = await p.get('/starved')
  t.equal(starved.status, 504)
  t.equal(starved.text, `upstream busy: no connection free within the route timeout 300ms (1 connections, target ${app.url}) (backend app)\n`)
  t.equal((await holding).status, 200)
})

t.test('the route timeout fires on time: a 1 s timeout always cuts a 1.15 s answer', async t => {
  const p = await start(t, {
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'r', to: 'app', timeout: '1s', retries: false }]
  })
  // undici's own timers tick every ~0.5 s above 1 s: with them, most of these
  // (started 100 ms apart, across one tick) were answered 200 after 1.15 s.
  const replies = await Promise.all([0, 100, 200, 300, 400].map(async delay => {
    await new Promise(resolve => setTimeout(resolve, delay))
    const res = await request(`${p.sy.proxyUrl}/delay/1150`)
    await res.body.dump()
    return res.statusCode
  }))
  t.same(replies, [504, 504, 504, 504, 504])
})
