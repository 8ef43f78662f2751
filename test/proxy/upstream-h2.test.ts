/**
 * switchyard's HTTP/2 upstream pool (src/proxy/h2-pool.ts) under the
 * conditions undici 7's known issues describe (nodejs/undici #3140, #5089:
 * GOAWAY; #5390: requests with bodies not multiplexed), against a bare
 * node:http2 backend (h2c) through switchyard:
 * - concurrent requests with bodies share one connection: the backend
 *   answers only once all of them are open at the same time, on one session;
 * - the backend's SETTINGS_MAX_CONCURRENT_STREAMS is kept: with one
 *   connection allowed, the calls over it wait for a stream, none is refused;
 * - a backend that sends GOAWAY after each answer: the next request opens a
 *   new connection and succeeds, none hangs;
 * - a graceful GOAWAY while a request is in flight: that request finishes
 *   (undici 7 failed it, #5089), the next one goes on a new connection;
 * - a stream the backend resets: 502 naming the backend;
 * - h2 over TLS: CA, serverName and insecure, calls sharing one connection;
 * - a backend that never sends SETTINGS: 504 after connectTimeout; a closed port: 502.
 */
import t from 'tap'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants, createSecureServer, createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { makeCa, makeLeaf } from '../helpers/certs.js'
import { startWith } from '../helpers/switchyard.js'

interface H2Backend { url: string, sessions: number, server: Http2Server, close (): Promise<void> }

/**
 * `/echo` streams the body back; `/gather` holds every stream until
 * `gather` of them are open at once, then answers each with its body's
 * length and the number of sessions they came on; `/goaway` answers then
 * closes its session gracefully; `/slow-goaway` sends GOAWAY first, then
 * answers; `/reset` resets the stream.
 */
async function h2Backend (settings: Settings = {}, gather = 0): Promise<H2Backend> {
  const server = createServer({ settings })
  const b = { url: '', sessions: 0, server, close: async () => {} }
  const held: Array<{ stream: ServerHttp2Stream, bytes: number }> = []
  const live = new Set<ServerHttp2Session>()
  server.on('session', s => { b.sessions++; live.add(s); s.on('close', () => live.delete(s)) })
  server.on('stream', (stream, headers) => {
    const path = headers[':path']
    if (path === '/echo') {
      stream.respond({ ':status': 200 })
      stream.pipe(stream)
      return
    }
    if (path === '/gather') {
      let bytes = 0
      stream.on('data', (chunk: Buffer) => { bytes += chunk.length })
      stream.on('end', () => {
        held.push({ stream, bytes })
        if (held.length < gather) return
        const sessions = new Set(held.map(h => h.stream.session)).size
        for (const h of held.splice(0)) {
          h.stream.respond({ ':status': 200 })
          h.stream.end(`${h.bytes} ${sessions}`)
        }
      })
      return
    }
    if (path === '/reset') {
      stream.on('error', () => {}) // Node reports the reset it sends on its own stream too
      stream.close(constants.NGHTTP2_INTERNAL_ERROR)
      return
    }
    stream.resume()
    if (path === '/slow-goaway') {
      stream.session?.goaway(0, stream.id)
      setTimeout(() => { if (!stream.destroyed) { stream.respond({ ':status': 200 }); stream.end('after goaway\n') } }, 50)
      return
    }
    const session = stream.session
    stream.respond({ ':status': 200 })
    stream.end('ok\n', () => { if (path === '/goaway') session?.close() })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  b.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  b.close = async () => {
    for (const s of live) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  return b
}

const GATHER = 6
const backend = await h2Backend({}, GATHER)
const sy = await startWith({
  shutdown: { drainDelay: '0s', timeout: '1s' },
  backends: { h2: { targets: [backend.url], protocol: 'h2c', connections: 8 } },
  routes: [{ name: 'all', to: 'h2', timeout: '5s', retries: false }]
})
t.teardown(async () => { await sy.close(); await backend.close() })

t.test('concurrent requests with bodies are multiplexed on one connection (undici 7 #5390 worked around)', async t => {
  const bodies = Array.from({ length: GATHER }, (_, i) => Buffer.alloc(200_000 + i, 97 + i))
  // The backend answers none until all six are open at once: not multiplexed, they would time out.
  const replies = await Promise.all(bodies.map(async body => await sy.send({ path: '/gather', method: 'POST', body })))
  t.same(replies.map(r => [r.status, r.text]), bodies.map(b => [200, `${b.length} 1`]), 'all six bodies whole, on one session')
  t.equal(backend.sessions, 1, 'one connection to the backend in all')
})

t.test('large bodies stream both ways on the shared connection', async t => {
  const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(300_000 + i, 97 + i))
  const replies = await Promise.all(bodies.map(async body => await sy.send({ path: '/echo', method: 'POST', body })))
  t.same(replies.map(r => [r.status, r.text.length, r.text[0]]), bodies.map(b => [200, b.length, String.fromCharCode(b[0] as number)]))
  t.equal(backend.sessions, 1, 'still the one connection')
})

t.test('a stream the backend resets: 502 naming the backend, the connection keeps serving', async t => {
  const r = await sy.get('/reset')
  t.equal(r.status, 502)
  t.equal(r.text, 'upstream unavailable (backend h2)\n')
  t.equal((await sy.get('/plain')).status, 200)
  t.equal(backend.sessions, 1, 'a stream reset does not cost the connection')
})

t.test('a backend that closes its connection (GOAWAY) after every answer: each next request succeeds on a new one', async t => {
  const before = backend.sessions
  for (let i = 0; i < 5; i++) {
    const r = await sy.get('/goaway')
    t.equal(r.status, 200)
    t.equal(r.text, 'ok\n')
  }
  t.ok(backend.sessions > before, 'closed connections were replaced by new ones')
})

t.test('a graceful GOAWAY while a request is in flight: that request finishes (undici 7 failed it, #5089), the next one is served on a new connection', async t => {
  t.equal((await sy.get('/plain')).status, 200, 'a connection is open (the last test\'s was closed)')
  const before = backend.sessions
  const r = await sy.get('/slow-goaway')
  t.equal(r.status, 200)
  t.equal(r.text, 'after goaway\n')
  t.equal((await sy.get('/plain')).status, 200)
  t.equal(backend.sessions, before + 1, 'the next request opened a new connection')
})

t.test('the backend\'s stream limit is kept: with one connection allowed, calls over the limit wait for a stream, none is refused', async t => {
  const limited = await h2Backend({ maxConcurrentStreams: 2 }, 2)
  const one = await startWith({
    shutdown: { drainDelay: '0s', timeout: '1s' },
    backends: { h2: { targets: [limited.url], protocol: 'h2c', connections: 1 } },
    routes: [{ name: 'all', to: 'h2', timeout: '5s', retries: false }]
  })
  t.teardown(async () => { await one.close(); await limited.close() })
  // Pairs: the backend answers each pair once both streams are open, the next pair takes their place.
  const replies = await Promise.all(Array.from({ length: 6 }, async () => await one.send({ path: '/gather', method: 'POST', body: 'x'.repeat(10) })))
  t.same(replies.map(r => [r.status, r.text]), Array.from({ length: 6 }, () => [200, '10 1']))
  t.equal(limited.sessions, 1, 'one connection, as configured')
})

t.test('h2 over TLS: the CA and serverName are checked, insecure skips the check; concurrent calls share one connection', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'sy-h2tls-'))
  const ca = await makeCa(dir)
  const leaf = await makeLeaf(dir, ca, 'orders', ['orders.internal'])
  const server = createSecureServer({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) })
  let sessions = 0
  server.on('session', () => { sessions++ })
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 })
    stream.end(`${String(headers[':authority'])}\n`)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const tls = await startWith({
    shutdown: { drainDelay: '0s', timeout: '1s' },
    backends: {
      named: { targets: [url], protocol: 'h2', tls: { ca: ca.cert, serverName: 'orders.internal' } },
      unnamed: { targets: [url], protocol: 'h2', tls: { ca: ca.cert } },
      insecure: { targets: [url], protocol: 'h2', tls: { insecure: true } }
    },
    routes: [
      { name: 'named', match: { path: { prefix: '/named' } }, to: 'named', retries: false },
      { name: 'unnamed', match: { path: { prefix: '/unnamed' } }, to: 'unnamed', retries: false },
      { name: 'insecure', match: { path: { prefix: '/insecure' } }, to: 'insecure', retries: false }
    ]
  })
  t.teardown(async () => {
    await tls.close()
    server.close()
    await rm(dir, { recursive: true, force: true })
  })
  const replies = await Promise.all(Array.from({ length: 5 }, async () => await tls.send({ path: '/named', method: 'POST', headers: { host: 'app.example' }, body: 'x' })))
  t.same(replies.map(r => [r.status, r.text]), Array.from({ length: 5 }, () => [200, 'app.example\n']), 'the client\'s Host is the :authority')
  t.equal(sessions, 1, 'five calls with bodies on one TLS connection')
  const unnamed = await tls.get('/unnamed')
  t.equal(unnamed.status, 502, 'an IP target is checked against the IP, which the certificate does not name')
  t.equal(unnamed.text, 'upstream unavailable (backend unnamed)\n')
  t.equal((await tls.get('/insecure')).status, 200, 'insecure: any certificate')
})

t.test('a backend that accepts connections but never speaks HTTP/2: 504 after connectTimeout; a closed port: 502; both name the backend', async t => {
  const sockets = new Set<Socket>()
  const mute = createNetServer(socket => { sockets.add(socket); socket.on('error', () => {}) })
  mute.listen(0, '127.0.0.1')
  await once(mute, 'listening')
  const closed = createNetServer()
  closed.listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise<void>(resolve => closed.close(() => resolve()))
  const s = await startWith({
    shutdown: { drainDelay: '0s', timeout: '1s' },
    backends: {
      mute: { targets: [`http://127.0.0.1:${(mute.address() as AddressInfo).port}`], protocol: 'h2c', connectTimeout: '200ms' },
      gone: { targets: [closedUrl], protocol: 'h2c' }
    },
    routes: [
      { name: 'gone', match: { path: { prefix: '/gone' } }, to: 'gone', retries: false },
      // No route timeout: only the connect timeout can answer.
      { name: 'mute', to: 'mute', retries: false, timeout: '0s' }
    ]
  })
  t.teardown(async () => {
    await s.close()
    for (const socket of sockets) socket.destroy()
    mute.close()
  })
  const timedOut = await s.get('/')
  t.equal(timedOut.status, 504)
  t.equal(timedOut.text, 'upstream timed out (backend mute)\n')
  const refused = await s.get('/gone')
  t.equal(refused.status, 502)
  t.equal(refused.text, 'upstream unavailable (backend gone)\n')
})
