/**
 * An HTTP/2 backend's own stream limit bounds what switchyard sends it, and
 * requests over it wait in switchyard's queue under `maxPending` and
 * `queueTimeout`, as for HTTP/1.1 backends (src/proxy/upstreams.ts,
 * src/proxy/h2-pool.ts), against a bare node:http2 backend advertising
 * SETTINGS_MAX_CONCURRENT_STREAMS 2 with `connections: 1`:
 * - more requests than 2 + maxPending: exactly 2 reach the backend,
 *   maxPending wait (counted in switchyard_upstream_queue_waiting), the rest
 *   get the queue's 503 at once;
 * - a wait longer than queueTimeout: the queue's 504;
 * and the pool itself: a destroyed pool fails its waiting requests and dials
 * no connection again; a connection that fails while another is open is not
 * redialled at once.
 */
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { createServer, type ServerHttp2Session } from 'node:http2'
import { createServer as createNetServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { H2Pool } from '../../src/proxy/h2-pool.js'
import { scrape } from '../helpers/exposition.js'
import { until } from '../helpers/until.js'
import { startWith, type Reply, type Running } from '../helpers/switchyard.js'

interface H2Gate {
  readonly url: string
  readonly port: number
  /** Sessions (connections) the backend accepted. */
  readonly sessions: number
  /** Streams held now, waiting for release(). */
  readonly held: number
  /** Answers the held streams, and every later one at once. */
  release (): void
  close (): Promise<void>
}

/** An h2c backend advertising `maxConcurrentStreams`: `/now` is answered at once, any other path held until release() opens the gate. */
async function h2Gate (maxConcurrentStreams: number): Promise<H2Gate> {
  const server = createServer({ settings: { maxConcurrentStreams } })
  const waiting: Array<() => void> = []
  const live = new Set<ServerHttp2Session>()
  let sessions = 0
  let open = false
  server.on('session', s => { sessions++; live.add(s); s.on('close', () => live.delete(s)) })
  server.on('stream', (stream, headers) => {
    stream.resume()
    stream.on('error', () => {})
    const path = String(headers[':path'])
    const answer = (): void => {
      if (stream.destroyed) return
      stream.respond({ ':status': 200 })
      stream.end(`answered ${path}`)
    }
    if (path === '/now' || open) answer()
    else waiting.push(answer)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get sessions () { return sessions },
    get held () { return waiting.length },
    release: () => {
      open = true
      for (const answer of waiting.splice(0)) answer()
    },
    close: async () => {
      for (const s of live) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

async function start (t: Test, config: Record<string, unknown>): Promise<Running> {
  const p = await startWith({ shutdown: { drainDelay: '0s', timeout: '1s' }, ...config })
  t.teardown(() => p.close())
  return p
}

async function waiting (p: Running, target: string): Promise<number | undefined> {
  return (await scrape(p.sy.adminUrl)).value('switchyard_upstream_queue_waiting', { backend: 'h2', target })
}

t.test('more requests than the backend\'s streams + maxPending: that many are served, the rest get the queue\'s 503 at once', async t => {
  const gate = await h2Gate(2)
  t.teardown(() => gate.close())
  const p = await start(t, {
    backends: { h2: { targets: [gate.url], protocol: 'h2c', connections: 1, maxPending: 2, queueTimeout: '10s' } },
    routes: [{ name: 'r', to: 'h2', timeout: '5s', retries: false }]
  })
  t.equal((await p.get('/now')).status, 200, 'the connection is up: its SETTINGS said 2 streams')
  const answered: Reply[] = []
  const replies = Array.from({ length: 7 }, async (_, i) => {
    const r = await p.get(`/held/${i}`)
    answered.push(r)
    return r
  })
  await until('2 held by the backend, 2 waiting in the queue, 3 answered', async () =>
    gate.held === 2 && await waiting(p, gate.url) === 2 && answered.length === 3, 4000)
  t.same(answered.map(r => [r.status, r.text]), Array.from({ length: 3 }, () =>
    [503, `upstream queue full: 1 connections with 2 streams busy and 2 requests waiting (maxPending 2, target ${gate.url}) (backend h2)\n`]))
  gate.release()
  const all = await Promise.all(replies)
  t.same(all.map(r => r.status).sort(), [200, 200, 200, 200, 503, 503, 503], 'the two held and the two that waited are served')
  t.equal(gate.sessions, 1)
  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_upstream_queue_rejections_total', ['backend', 'target', 'reason']), { [`backend=h2,target=${gate.url},reason=queue_full`]: 3 })
  t.equal(m.value('switchyard_upstream_queue_waiting', { backend: 'h2', target: gate.url }), 0)
  t.equal(m.sum('switchyard_upstream_errors_total'), 0)
})

t.test('a wait for a stream longer than queueTimeout: the queue\'s 504; the requests on the streams are unaffected', async t => {
  const gate = await h2Gate(2)
  t.teardown(() => gate.close())
  const p = await start(t, {
    backends: { h2: { targets: [gate.url], protocol: 'h2c', connections: 1, queueTimeout: '300ms' } },
    routes: [{ name: 'r', to: 'h2', timeout: '3s', retries: false }]
  })
  t.equal((await p.get('/now')).status, 200)
  const holding = [p.get('/held/a'), p.get('/held/b')]
  await until('2 held by the backend', () => gate.held === 2, 4000)
  const late = await p.get('/late')
  t.equal(late.status, 504)
  t.equal(late.text, `upstream busy: no connection free within the queueTimeout 300ms (1 connections with 2 streams, target ${gate.url}) (backend h2)\n`)
  gate.release()
  t.same((await Promise.all(holding)).map(r => r.status), [200, 200])
  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_upstream_queue_rejections_total', ['backend', 'reason']), { 'backend=h2,reason=queue_timeout': 1 })
})

const poolOptions = { connections: 1, streamsPerConnection: 100, connectTimeoutMs: 2000, keepAliveTimeoutMs: 10_000 }

/** A request through the pool: its status, or the code of its error. */
async function outcome (pool: Dispatcher, path: string): Promise<number | string> {
  try {
    const res = await pool.request({ origin: 'http://app.test', path, method: 'GET' })
    await res.body.text()
    return res.statusCode
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

t.test('a destroyed pool fails the requests waiting for a stream and opens no connection again', async t => {
  const gate = await h2Gate(1)
  t.teardown(() => gate.close())
  const pool = new H2Pool(gate.url, poolOptions)
  const first = outcome(pool, '/held/a')
  await until('the first request held', () => gate.held === 1, 4000)
  // The connection's one stream is taken: this one waits in the pool.
  const second = outcome(pool, '/held/b')
  await pool.destroy()
  t.equal(await Promise.race([second, sleep(2000, 'still waiting')]), 'UND_ERR_CLOSED')
  t.equal(await first, 'UND_ERR_SOCKET', 'the request on the destroyed connection fails')
  await sleep(200)
  t.equal(gate.sessions, 1, 'no connection opened after destroy()')
  t.equal(await outcome(pool, '/now'), 'UND_ERR_CLOSED')
})

/** A TCP relay to `port` that lets the first connection through and resets every later one; counts them. */
async function firstOnly (port: number): Promise<{ url: string, connections: number, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const relay = { url: '', connections: 0, close: async () => {} }
  const server: Server = createNetServer(client => {
    client.on('error', () => {})
    if (++relay.connections > 1) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(port, '127.0.0.1')
    upstream.on('error', () => {})
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  relay.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  return relay
}

t.test('a connection that fails while another is open is not redialled at once: the waiting request gets the open one\'s stream', async t => {
  const gate = await h2Gate(1)
  t.teardown(() => gate.close())
  const relay = await firstOnly(gate.port)
  t.teardown(() => relay.close())
  const pool = new H2Pool(relay.url, { ...poolOptions, connections: 2 })
  t.teardown(() => pool.destroy())
  const first = outcome(pool, '/held/a')
  await until('the first request held', () => gate.held === 1, 4000)
  // No room on the first connection: the pool dials a second, which the relay resets.
  const second = outcome(pool, '/held/b')
  await until('a second connection tried', () => relay.connections >= 2, 4000)
  await sleep(200)
  t.equal(relay.connections, 2, 'no connection dialled again at once')
  gate.release()
  t.same([await first, await second], [200, 200], 'the second request served on the first connection once its stream was free')
  t.equal(gate.sessions, 1)
})
