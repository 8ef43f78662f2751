/**
 * Hostile and malformed requests on raw sockets: each gets a clear 4xx (or
 * 408), never reaches an upstream when it could smuggle a request, and the
 * next normal request is served.
 */
import t from 'tap'
import { connect } from 'node:net'
import { startBackend, type Backend } from '../helpers/backends.js'
import { rawRequest } from '../helpers/raw.js'
import { startWith, type Running } from '../helpers/switchyard.js'

let backend: Backend
let p: Running
t.before(async () => {
  backend = await startBackend('app')
  p = await startWith({
    listen: { host: '127.0.0.1', port: 0, headersTimeout: '1s', maxHeaderBytes: 8192, maxHeaders: 50 },
    backends: { app: { targets: [backend.url] } },
    routes: [{ name: 'r', to: 'app', sticky: { cookie: 'sy_id' } }]
  })
})
t.teardown(async () => { await p.close(); await backend.close() })

const normal = 'GET / HTTP/1.1\r\nHost: ok.test\r\nConnection: close\r\n\r\n'

interface Case { desc: string, request: string, status: number, body?: RegExp, forwarded: boolean }

const cases: Case[] = [
  { desc: 'garbage request line', request: 'HELLO\r\n\r\n', status: 400, forwarded: false },
  { desc: 'bad HTTP version', request: 'GET / HTTP/9.9\r\nHost: a\r\n\r\n', status: 400, forwarded: false },
  { desc: 'space in the URL', request: 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, forwarded: false },
  { desc: 'control byte in a header value', request: 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n', status: 400, forwarded: false },
  { desc: 'header without a colon', request: 'GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n', status: 400, forwarded: false },
  { desc: 'Content-Length and Transfer-Encoding together (smuggling)', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, forwarded: false },
  { desc: 'two different Content-Length headers', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 5\r\n\r\nhello', status: 400, forwarded: false },
  { desc: 'two equal Content-Length headers', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', status: 400, forwarded: false },
  { desc: 'invalid Content-Length', request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', status: 400, forwarded: false },
  { desc: 'bad chunk size', request: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', status: 400, forwarded: false },
  { desc: 'headers over maxHeaderBytes', request: `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`, status: 431, forwarded: false },
  { desc: 'URL over maxHeaderBytes', request: `GET /${'x'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 414, forwarded: false },
  { desc: 'too many header fields', request: `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 60 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}\r\n`, status: 431, body: /too many header fields \(limit 50\)/, forwarded: false },
  { desc: 'no Host header on HTTP/1.1', request: 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400, forwarded: false },
  { desc: 'undecodable and odd cookie bytes are just values', request: 'GET / HTTP/1.1\r\nHost: a\r\nCookie: sy_id=%E0%A4%A; x=\xff\xfe; ;;=;a\r\nConnection: close\r\n\r\n', status: 200, forwarded: true },
  { desc: 'absurd but valid URL', request: `GET /${'%2e%2e/'.repeat(200)}?${'a=1&'.repeat(300)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, status: 200, forwarded: true }
]

t.test('malformed requests: a clear status, never forwarded, the next request works', async t => {
  for (const c of cases) {
    const before = backend.count
    const r = await rawRequest(p.sy.proxyUrl, c.request)
    t.equal(r.status, c.status, `${c.desc}: status`)
    if (c.status >= 400) t.ok(r.body.length > 0, `${c.desc}: says why (${r.body.trim()})`)
    if (c.body !== undefined) t.match(r.body, c.body, `${c.desc}: body`)
    if (c.status >= 400) t.equal(r.headers.connection, 'close', `${c.desc}: the connection is closed`)
    t.equal(backend.count - before, c.forwarded ? 1 : 0, `${c.desc}: ${c.forwarded ? 'forwarded once' : 'not forwarded'}`)
    const next = await rawRequest(p.sy.proxyUrl, normal)
    t.equal(next.status, 200, `${c.desc}: the next request is served`)
  }
})

t.test('a slow-loris client gets 408 after headersTimeout; others are served meanwhile', async t => {
  const url = new URL(p.sy.proxyUrl)
  const result = new Promise<string>((resolve, reject) => {
    const s = connect(Number(url.port), '127.0.0.1')
    let data = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { data += d })
    s.on('close', () => resolve(data))
    s.on('error', reject)
    // Dribble a header byte now and then, never finishing the head.
    s.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ')
    const timer = setInterval(() => { if (!s.destroyed) s.write('a') }, 100)
    s.on('close', () => clearInterval(timer))
  })
  t.equal((await rawRequest(p.sy.proxyUrl, normal)).status, 200, 'served while the slow client hangs')
  const raw = await result
  t.match(raw, /^HTTP\/1\.1 408 Request Timeout\r\n/)
})

t.test('odd header values are forwarded byte for byte', async t => {
  const r = await rawRequest(p.sy.proxyUrl, 'GET / HTTP/1.1\r\nHost: a\r\nX-Inject: "}\\n{"level":60}\r\nConnection: close\r\n\r\n')
  t.equal(r.status, 200)
  const echo = JSON.parse(r.body) as { headers: Record<string, string> }
  t.equal(echo.headers['x-inject'], '"}\\n{"level":60}', 'forwarded unchanged')
})
