/**
 * Header rules, stripPrefix and the Location rewrite through real backends:
 * what the backend received and what the client received.
 */
import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deadPort, startBackends, type EchoReply } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

/** A backend that redirects: `/go?to=URL` answers 302 to URL, and `/self/P` to its own origin + `/P`. */
async function startRedirector (): Promise<{ url: string, server: Server }> {
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const location = u.pathname === '/go' ? u.searchParams.get('to') ?? '/' : self + u.pathname.replace(/^\/self/, '') + u.search
    res.writeHead(302, { location, 'x-seen-path': req.url ?? '', 'x-seen-prefix': String(req.headers['x-forwarded-prefix']) }).end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

t.test('request and response rules of the route and the backend', async t => {
  const p = await startWith({
    backends: {
      stable: {
        version: '1.0',
        targets: [stable.url],
        headers: { request: { set: { 'x-env': 'stable' } }, response: { set: { 'X-Version': '1.0' }, remove: ['x-backend'] } }
      },
      canary: { version: '2.0', targets: [canary.url], headers: { response: { add: { 'x-version': '2.0' } } } }
    },
    routes: [{
      name: 'r',
      to: 'stable',
      rules: [{ name: 'beta', when: { headers: { 'x-beta': { present: true } } }, to: 'canary' }],
      headers: {
        request: { set: { 'x-env': 'route', 'X-Forwarded-Proto': 'https' }, add: { 'x-tag': 'edge' }, remove: ['x-secret', 'cookie'] },
        response: { add: { 'cache-control': 'no-transform' }, remove: ['content-type'] }
      }
    }]
  })
  t.teardown(() => p.close())

  const r = await p.get('/hello', { 'x-secret': 's3cret', cookie: 'a=1', 'x-tag': 'client', 'x-env': 'client' })
  t.equal(r.status, 200)
  const seen = r.json<EchoReply>()
  t.equal(seen.name, 'stable')
  t.equal(seen.headers['x-secret'], undefined, 'removed by the route')
  t.equal(seen.headers.cookie, undefined, 'removed by the route')
  t.equal(seen.headers['x-env'], 'stable', 'the backend\'s set wins over the route\'s and the client\'s')
  t.equal(seen.headers['x-tag'], 'client, edge', 'add keeps the client\'s value')
  t.equal(seen.headers['x-forwarded-proto'], 'https', 'a rule may replace what switchyard sets')
  t.equal(r.headers['x-version'], '1.0', 'backend response set')
  t.equal(r.headers['x-backend'], undefined, 'backend response remove')
  t.equal(r.headers['content-type'], undefined, 'route response remove')
  t.equal(r.headers['cache-control'], 'no-transform', 'route response add')

  const beta = await p.get('/hello', { 'x-beta': '1', 'x-env': 'client' })
  const seenBeta = beta.json<EchoReply>()
  t.equal(seenBeta.name, 'canary')
  t.equal(seenBeta.headers['x-env'], 'route', 'canary has no request rule: the route\'s set applies')
  t.equal(beta.headers['x-version'], '2.0')
  t.equal(beta.headers['x-backend'], 'canary', 'stable\'s response rules do not apply to canary')
})

t.test('a failover applies the fallback\'s request rules, not the decided backend\'s', async t => {
  const p = await startWith({
    backends: {
      canary: { targets: [`http://127.0.0.1:${await deadPort()}`], fallback: 'stable', headers: { request: { set: { host: 'canary.internal', 'x-for': 'canary' } } } },
      stable: { targets: [stable.url], headers: { request: { set: { 'x-for': 'stable' } }, response: { set: { 'x-served-by': 'stable' } } } }
    },
    routes: [{ name: 'r', to: 'canary' }]
  })
  t.teardown(() => p.close())
  const r = await p.get('/x', { host: 'shop.example' })
  t.equal(r.status, 200)
  const seen = r.json<EchoReply>()
  t.equal(seen.name, 'stable')
  t.equal(seen.headers['x-for'], 'stable')
  t.equal(seen.headers.host, 'shop.example', 'canary\'s Host rewrite is not sent to stable')
  t.equal(r.headers['x-served-by'], 'stable', 'response rules of the backend that served')
})

t.test('stripPrefix: the backend sees the path without it, and X-Forwarded-Prefix', async t => {
  const redirector = await startRedirector()
  const p = await startWith({
    backends: { app: { targets: [stable.url] }, redirector: { targets: [redirector.url] } },
    routes: [
      { name: 'redirects', match: { path: { prefix: '/r/' } }, to: 'redirector', stripPrefix: '/r' },
      { name: 'raw', match: { path: { prefix: '/raw/' } }, to: 'redirector', stripPrefix: '/raw', rewriteLocation: false },
      { name: 'api', match: { path: { prefix: '/api' } }, to: 'app', stripPrefix: '/api' }
    ]
  })
  t.teardown(() => p.close())

  const users = (await p.get('/api/users?page=2', { 'x-forwarded-prefix': '/forged' })).json<EchoReply>()
  t.equal(users.url, '/users?page=2')
  t.equal(users.headers['x-forwarded-prefix'], '/api')
  t.equal((await p.get('/api')).json<EchoReply>().url, '/')
  const notStripped = (await p.get('/apix/users', { 'x-forwarded-prefix': '/client' })).json<EchoReply>()
  t.equal(notStripped.url, '/apix/users', 'not on a segment boundary: sent as it is')
  t.equal(notStripped.headers['x-forwarded-prefix'], '/client', 'and the client\'s header is not replaced')

  const self = await p.get('/r/self/login?next=%2Fhome')
  t.equal(self.status, 302)
  t.equal(self.headers['x-seen-path'], '/self/login?next=%2Fhome')
  t.equal(self.headers['x-seen-prefix'], '/r')
  t.equal(self.headers.location, '/r/login?next=%2Fhome', 'the target origin became a path, prefix put back')
  const elsewhere = await p.get(`/r/go?to=${encodeURIComponent('https://login.example.com/sso')}`)
  t.equal(elsewhere.headers.location, 'https://login.example.com/sso', 'another origin is left alone')
  const relative = await p.get(`/r/go?to=${encodeURIComponent('/welcome')}`)
  t.equal(relative.headers.location, '/welcome', 'a path is left alone, as nginx does')
  const off = await p.get('/raw/self/x')
  t.equal(off.headers.location, `${redirector.url}/x`, 'rewriteLocation: false keeps the backend\'s Location')
})
