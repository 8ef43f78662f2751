/**
 * Hostile HTTP/2 clients, written frame by frame on a raw socket: rapid
 * reset (CVE-2023-44487), more concurrent streams than allowed, an endless
 * header block (CONTINUATION flood), SETTINGS and PING floods: each attack
 * connection is closed by switchyard (floods and rapid reset with GOAWAY
 * ENHANCE_YOUR_CALM), and the process keeps serving others, also while a
 * client floods without reading. A real client's few SETTINGS and PINGs
 * are under the limits. Other clients ask another route (its own
 * backend), so what is measured is the proxy, not the attacked backend's
 * queue.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { connect as h2connect } from 'node:http2'
import { startBackend } from '../helpers/backends.js'
import { startWith, type Running } from '../helpers/switchyard.js'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const HEADERS = 1; const RST_STREAM = 3; const SETTINGS = 4; const PING = 6; const GOAWAY = 7; const CONTINUATION = 9
const ENHANCE_YOUR_CALM = 11
const END_STREAM = 1; const END_HEADERS = 4

function frame (type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** HPACK for GET / on http with an :authority: indexed static entries and one literal. */
const GET_BLOCK = Buffer.concat([Buffer.from([0x82, 0x86, 0x84, 0x01, 9]), Buffer.from('localhost', 'latin1')])

interface Attack { readonly socket: Socket, readonly closed: Promise<void>, readonly received: Buffer[] }

/** The error code of the GOAWAY among the frames `a` received; undefined when none came. */
function goawayCode (a: Attack): number | undefined {
  const all = Buffer.concat(a.received)
  for (let at = 0; at + 9 <= all.length; at += 9 + all.readUIntBE(at, 3)) {
    if (all[at + 3] === GOAWAY && at + 17 <= all.length) return all.readUInt32BE(at + 13)
  }
  return undefined
}

async function open (sy: Running): Promise<Attack> {
  const u = new URL(sy.sy.proxyUrl)
  const socket = connect(Number(u.port), u.hostname)
  await once(socket, 'connect')
  const a = { socket, received: [] as Buffer[], closed: new Promise<void>(resolve => socket.once('close', () => resolve())) }
  socket.on('data', (d: Buffer) => { a.received.push(d) })
  socket.on('error', () => {})
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]))
  // Acknowledge the server's SETTINGS, as a real client would: its limits are in force from then on.
  await once(socket, 'data')
  socket.write(frame(SETTINGS, 1, 0))
  return a
}

/** Writes `frames` as fast as the socket takes them, stopping when it closes. */
async function flood (a: Attack, count: number, make: (i: number) => Buffer): Promise<void> {
  for (let i = 0; i < count && !a.socket.destroyed; i++) {
    if (!a.socket.write(make(i))) await Promise.race([once(a.socket, 'drain').catch(() => {}), a.closed])
  }
}

/** One ordinary HTTP/2 request from another client. */
async function served (sy: Running): Promise<number> {
  const session = h2connect(sy.sy.proxyUrl)
  session.on('error', () => {})
  try {
    const req = session.request({ ':path': '/ok' })
    req.end()
    const [headers] = await once(req, 'response') as [Record<string, unknown>]
    req.resume()
    await once(req, 'end')
    return Number(headers[':status'])
  } finally {
    session.close()
  }
}

/** The attack connection is closed by switchyard within `ms` (else the test fails rather than hang). */
async function closedWithin (a: Attack, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const out = await Promise.race([a.closed.then(() => true), new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), ms) })])
  clearTimeout(timer)
  a.socket.destroy()
  return out
}

const backend = await startBackend('one')
const others = await startBackend('other')
const sy = await startWith({
  listen: { host: '127.0.0.1', port: 0, http2: { maxConcurrentStreams: 50, maxResetsPerSecond: 100, maxSettingsPerSecond: 20, maxPingsPerSecond: 50 } },
  shutdown: { drainDelay: '0s', timeout: '1s' },
  backends: { one: { targets: [backend.url] }, other: { targets: [others.url] } },
  routes: [{ name: 'others', match: { path: { exact: '/ok' } }, to: 'other' }, { name: 'all', to: 'one' }]
})
t.teardown(async () => { await sy.close(); await backend.close(); await others.close() })

t.test('rapid reset: streams opened and cancelled at once close the connection (GOAWAY ENHANCE_YOUR_CALM)', async t => {
  const a = await open(sy)
  await flood(a, 5000, i => Buffer.concat([frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1, GET_BLOCK), frame(RST_STREAM, 0, 2 * i + 1, Buffer.from([0, 0, 0, 8]))]))
  t.ok(await closedWithin(a, 10_000), 'the attacking connection was closed')
  t.equal(goawayCode(a), ENHANCE_YOUR_CALM, 'with GOAWAY ENHANCE_YOUR_CALM')
  t.equal(await served(sy), 200, 'others are served')
})

t.test('more concurrent streams than allowed: refused, then the connection closes', async t => {
  const a = await open(sy)
  // Streams left open (no END_STREAM): 50 are allowed, the rest are refused; enough refusals end the session.
  await flood(a, 1000, i => frame(HEADERS, END_HEADERS, 2 * i + 1, GET_BLOCK))
  t.ok(await closedWithin(a, 10_000), 'the connection was closed')
  t.equal(await served(sy), 200, 'others are served')
})

t.test('an endless header block (CONTINUATION flood) is cut off', async t => {
  const a = await open(sy)
  const literal = Buffer.concat([Buffer.from([0x40, 5]), Buffer.from('x-big', 'latin1'), Buffer.from([0x7f, 0x81, 0x7f]), Buffer.alloc(16_384, 0x61)]).subarray(0, 16_000)
  a.socket.write(frame(HEADERS, 0, 1, GET_BLOCK))
  await flood(a, 2000, () => frame(CONTINUATION, 0, 1, literal))
  t.ok(await closedWithin(a, 10_000), 'the connection was closed before 32 MB of headers')
  t.equal(await served(sy), 200, 'others are served')
})

const FLOODS = [
  ['SETTINGS', () => frame(SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100]))],
  ['PING', (i: number) => { const p = Buffer.alloc(8); p.writeUInt32BE(i); return frame(PING, 0, 0, p) }]
] as const

t.test('SETTINGS and PING floods close the connection (GOAWAY ENHANCE_YOUR_CALM, over maxSettingsPerSecond / maxPingsPerSecond)', async t => {
  for (const [name, make] of FLOODS) {
    const a = await open(sy)
    await flood(a, 20_000, make)
    t.ok(await closedWithin(a, 10_000), `${name} flood: the connection was closed`)
    t.equal(goawayCode(a), ENHANCE_YOUR_CALM, `${name} flood: with GOAWAY ENHANCE_YOUR_CALM`)
    t.equal(await served(sy), 200, `${name} flood: others are served`)
  }
})

t.test('SETTINGS and PING floods from a client that never reads: others are served meanwhile', async t => {
  for (const [name, make] of FLOODS) {
    const a = await open(sy)
    // The attacker never reads: acknowledgements pile up on switchyard's side.
    a.socket.pause()
    const flooding = flood(a, 20_000, make)
    t.equal(await served(sy), 200, `${name} flood: another client is served during it`)
    await flooding
    t.equal(await served(sy), 200, `${name} flood: and after it`)
    a.socket.destroy()
  }
})

t.test('a client\'s few SETTINGS and PINGs are under the limits: its connection keeps serving', async t => {
  const session = h2connect(sy.sy.proxyUrl)
  session.on('error', () => {})
  t.teardown(() => { session.close() })
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve, reject) => { session.settings({ initialWindowSize: 65_535 + i }, err => { if (err === null) resolve(); else reject(err) }) })
    await new Promise<void>((resolve, reject) => { session.ping(err => { if (err === null) resolve(); else reject(err) }) })
  }
  const req = session.request({ ':path': '/ok' })
  req.end()
  const [headers] = await once(req, 'response') as [Record<string, unknown>]
  req.resume()
  await once(req, 'end')
  t.equal(headers[':status'], 200, 'the same connection still answers')
  t.notOk(session.destroyed, 'and is open')
})
