/**
 * Requests switchyard must answer itself, sent over raw sockets as a
 * hostile or curious client would: `OPTIONS *`, another method with `*`,
 * `CONNECT`, a 20 KB URL, and `Upgrade: h2c`. Each gets its own status, the
 * process keeps serving, nothing is counted as a backend's error, and the
 * h2c request is served as the plain HTTP/1.1 request it also is.
 */
import t from 'tap'
import { startBackends, type EchoReply } from '../helpers/backends.js'
import { scrape } from '../helpers/exposition.js'
import { rawRequest } from '../helpers/raw.js'
import { startWith } from '../helpers/switchyard.js'

const { app } = await startBackends(t, 'app')

t.test('OPTIONS *, GET *, CONNECT, a 20 KB URL and Upgrade: h2c', async t => {
  const p = await startWith({
    shutdown: { drainDelay: '0s', timeout: '1s' },
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'r', split: { app: 1 }, sticky: { cookie: 'sy_id' } }]
  })
  t.teardown(() => p.close())
  const proxy = p.sy.proxyUrl
  const before = app.count

  const options = await rawRequest(proxy, 'OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
  t.equal(options.status, 200, 'OPTIONS * is a ping of switchyard')
  t.equal(options.headers.allow, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS')
  t.equal(options.headers['content-length'], '0')

  const star = await rawRequest(proxy, 'GET * HTTP/1.1\r\nHost: app.test\r\n\r\n')
  t.equal(star.status, 400)
  t.equal(star.body, 'bad request (the request target * is only for OPTIONS, not GET)\n')

  const connect = await rawRequest(proxy, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  t.equal(connect.status, 405, 'CONNECT is answered, not left hanging')
  t.equal(connect.headers.allow, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS')
  t.equal(connect.body, 'CONNECT is not supported: switchyard is a reverse proxy, not a forward proxy\n')

  const long = await rawRequest(proxy, `GET /${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: app.test\r\n\r\n`)
  t.equal(long.status, 414, 'a URL over the head limit is 414, as nginx answers')
  t.equal(long.body, 'uri too long\n')
  const bigHeader = await rawRequest(proxy, `GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`)
  t.equal(bigHeader.status, 431, 'an oversized header field stays 431')

  t.equal(app.count, before, 'none of these reached the backend')

  // curl --http2 on a cleartext URL sends exactly this.
  const h2c = await rawRequest(proxy, 'GET /h2c?x=1 HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n')
  t.equal(h2c.status, 200, 'served as HTTP/1.1, not switched')
  t.match(h2c.headers['set-cookie'], /^sy_id=[^;]+;.*\bPath=\//, 'with its sticky cookie')
  const seen = JSON.parse(h2c.body) as EchoReply
  t.equal(seen.url, '/h2c?x=1')
  t.equal(seen.headers.upgrade, undefined, 'the upgrade is not forwarded')
  t.equal(seen.headers['http2-settings'], undefined)

  // A POST with a body through the same path keeps its body.
  const h2cPost = await rawRequest(proxy, 'POST /h2c HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello')
  t.equal(h2cPost.status, 200)
  t.equal((JSON.parse(h2cPost.body) as EchoReply).bodyLength, 5)

  t.equal((await p.get('/still-serving')).status, 200, 'the process keeps serving')

  const m = await scrape(p.sy.adminUrl)
  t.same(m.table('switchyard_rejected_requests_total', ['reason', 'code']), {
    'reason=options_asterisk,code=200': 1,
    'reason=malformed,code=400': 1,
    'reason=connect,code=405': 1,
    'reason=uri_too_long,code=414': 1,
    'reason=headers_too_large,code=431': 1
  })
  t.equal(m.sum('switchyard_upstream_errors_total'), 0, 'no backend error counted')
  t.same(m.table('switchyard_requests_total', ['method', 'code']), { 'method=GET,code=200': 2, 'method=POST,code=200': 1 }, 'only the proxied requests are exchanges, all 200')
})
