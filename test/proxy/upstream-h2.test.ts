/**
 * undici 7's HTTP/2 client under the conditions its known issues describe
 * (nodejs/undici #3140, #5089: GOAWAY; #5390: requests with bodies not
 * multiplexed), against a bare node:http2 backend (h2c) through switchyard:
 * - a backend that sends GOAWAY after each answer: the next request opens a
 *   new connection and succeeds, none hangs;
 * - a GOAWAY while a request is in flight: undici 7 fails that request
 *   (#5089: even a graceful GOAWAY destroys the connection); the client gets
 *   a 502 naming the backend (a retry goes to another target when there is
 *   one), and the next request is served on a new connection;
 * - concurrent requests with bodies: every body arrives whole, each on a
 *   connection of its own (the #5390 limitation: `connections` bounds them).
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { startWith } from '../helpers/switchyard.js'

interface H2Backend { url: string, sessions: number, server: Http2Server, close (): Promise<void> }

/** `/echo` streams the body back; `/goaway` answers then closes its session gracefully; `/slow-goaway` sends GOAWAY first, then answers. */
async function h2Backend (): Promise<H2Backend> {
  const server = createServer()
  const b = { url: '', sessions: 0, server, close: async () => {} }
  const live = new Set<ServerHttp2Session>()
  server.on('session', s => { b.sessions++; live.add(s); s.on('close', () => live.delete(s)) })
  server.on('stream', (stream, headers) => {
    const path = headers[':path']
    if (path === '/echo') {
      stream.respond({ ':status': 200 })
      stream.pipe(stream)
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

const backend = await h2Backend()
const sy = await startWith({
  shutdown: { drainDelay: '0s', timeout: '1s' },
  backends: { h2: { targets: [backend.url], protocol: 'h2c', connections: 8 } },
  routes: [{ name: 'all', to: 'h2', timeout: '1s', retries: false }]
})
t.teardown(async () => { await sy.close(); await backend.close() })

t.test('concurrent requests with bodies all arrive whole (undici 7: one connection each)', async t => {
  const before = backend.sessions
  const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(200_000 + i, 97 + i))
  const replies = await Promise.all(bodies.map(async body => await sy.send({ path: '/echo', method: 'POST', body })))
  t.same(replies.map(r => [r.status, r.text.length, r.text[0]]), bodies.map(b => [200, b.length, String.fromCharCode(b[0] as number)]))
  t.ok(backend.sessions - before <= 8, 'at most `connections` connections')
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

t.test('a GOAWAY while a request is in flight fails that request (undici #5089), never hangs; the next one is served', async t => {
  const r = await sy.get('/slow-goaway')
  t.equal(r.status, 502, 'the known undici 7 limitation, answered with a clear 502')
  t.equal(r.text, 'upstream unavailable (backend h2)\n')
  t.equal((await sy.get('/plain')).status, 200, 'and the next request is served, on a new connection')
})
