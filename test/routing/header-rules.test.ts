/**
 * Header rules, stripPrefix and the Location rewrite without sockets: what
 * the compiler makes of the config (one plan per route and backend), the
 * pure functions the data path calls, and the located validation errors.
 */
import t from 'tap'
import fc from 'fast-check'
import { validateConfig } from '../../src/config/validate.js'
import { applyHeaderPlan, rewriteLocation, stripPathPrefix } from '../../src/proxy/headers.js'
import { tableOf } from '../helpers/tables.js'

const targets = { a: 'http://127.0.0.1:9001', b: 'http://127.0.0.1:9002', c: 'http://127.0.0.1:9003' }

t.test('route rules, then backend rules, merged into one plan per backend', async t => {
  const table = tableOf({
    backends: {
      a: { targets: [targets.a], headers: { request: { set: { 'X-Env': 'a' }, remove: ['x-route'] }, response: { add: { 'X-Version': '1.0' } } } },
      b: { targets: [targets.b], headers: { request: { add: { 'x-extra': 'b' } } } },
      c: { targets: [targets.c] }
    },
    routes: [
      { name: 'r', split: { a: 1, b: 1, c: 1 }, headers: { request: { set: { 'X-Route': 'r', 'x-env': 'route' }, remove: ['Cookie'], add: { 'x-tag': 't' } } } },
      { name: 'plain', to: 'c' }
    ]
  })
  const [r, plain] = table.routes
  const plans = r?.requestHeaders
  t.ok(plans !== undefined)
  // a removes x-route and sets x-env itself: the route's values for both go.
  t.same([...(plans?.[0]?.drop ?? [])].sort(), ['cookie', 'x-env', 'x-route'])
  t.same(plans?.[0]?.append, ['x-tag', 't', 'X-Env', 'a'])
  t.same(plans?.[1]?.append, ['X-Route', 'r', 'x-env', 'route', 'x-tag', 't', 'x-extra', 'b'])
  t.same(plans?.[2]?.append, ['X-Route', 'r', 'x-env', 'route', 'x-tag', 't'])
  t.same(r?.responseHeaders?.map(p => p?.append), [['X-Version', '1.0'], undefined, undefined])
  t.equal(plain?.requestHeaders, undefined, 'a route to a backend without rules has no request plan')
  t.equal(plain?.responseHeaders?.[2], undefined)
  t.equal(r?.rewriteLocation, true, 'Location rewrite is on by default')
})

t.test('applyHeaderPlan drops, then appends, and leaves its input alone', async t => {
  const table = tableOf({
    backends: { a: { targets: [targets.a] } },
    routes: [{ name: 'r', to: 'a', headers: { request: { set: { 'x-forwarded-proto': 'https' }, remove: ['x-request-id'], add: { via: 'edge' } } } }]
  })
  const plan = table.routes[0]?.requestHeaders?.[0]
  const base = ['host', 'example.com', 'x-forwarded-proto', 'http', 'x-request-id', 'abc', 'via', 'one']
  t.same(applyHeaderPlan(base, plan), ['host', 'example.com', 'via', 'one', 'x-forwarded-proto', 'https', 'via', 'edge'])
  t.same(base, ['host', 'example.com', 'x-forwarded-proto', 'http', 'x-request-id', 'abc', 'via', 'one'])
  t.same(applyHeaderPlan(base, undefined), base)
})

t.test('stripPathPrefix strips on a segment boundary only and keeps the query', async t => {
  const cases: Array<[url: string, prefix: string, expected: string | undefined]> = [
    ['/api/users?x=1', '/api', '/users?x=1'],
    ['/api', '/api', '/'],
    ['/api?x=1', '/api', '/?x=1'],
    ['/api/', '/api', '/'],
    ['/apix/users', '/api', undefined],
    ['/other', '/api', undefined],
    ['/v1/api/x', '/v1/api', '/x']
  ]
  for (const [url, prefix, expected] of cases) {
    const q = url.indexOf('?')
    t.equal(stripPathPrefix(url, q === -1 ? url : url.slice(0, q), prefix), expected, `${url} - ${prefix}`)
  }
  const segment = fc.stringMatching(/^[a-z0-9._~-]{1,8}$/)
  fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.array(segment, { maxLength: 3 }), (pre, rest) => {
    const prefix = '/' + pre.join('/')
    const path = prefix + (rest.length === 0 ? '' : '/' + rest.join('/'))
    // The prefix comes off whole and what is left is the rest of the path.
    return stripPathPrefix(path, path, prefix) === (rest.length === 0 ? '/' : '/' + rest.join('/'))
  }))
})

t.test('rewriteLocation: the target origin becomes a path on the client host, with the prefix back', async t => {
  const origins = ['http://10.0.0.7:8080', 'http://10.0.0.8:8080']
  t.equal(rewriteLocation('http://10.0.0.7:8080/login?next=%2F', origins, '/api'), '/api/login?next=%2F')
  t.equal(rewriteLocation('HTTP://10.0.0.8:8080/x', origins, undefined), '/x', 'scheme and host compare case-insensitively')
  t.equal(rewriteLocation('http://10.0.0.7:8080', origins, '/api'), '/api/')
  t.equal(rewriteLocation('http://10.0.0.7:8080?a=1', origins, undefined), '/?a=1')
  t.equal(rewriteLocation('http://10.0.0.7:80801/x', origins, undefined), 'http://10.0.0.7:80801/x', 'another port that shares the digits')
  t.equal(rewriteLocation('https://example.com/x', origins, '/api'), 'https://example.com/x')
  t.equal(rewriteLocation('/relative', origins, '/api'), '/relative', 'as nginx: only the target origin is rewritten')
  fc.assert(fc.property(fc.webUrl(), url => {
    // Any URL on another origin passes through untouched.
    fc.pre(!url.toLowerCase().startsWith('http://10.0.0.'))
    return rewriteLocation(url, origins, '/api') === url
  }))
})

t.test('validation: framing and hop-by-hop headers are refused, with their location', async t => {
  const result = validateConfig({
    proxy: { requestId: { header: 'Connection' } },
    backends: {
      a: { targets: [targets.a], headers: { response: { set: { 'Content-Length': '1' } } } }
    },
    routes: [{
      name: 'r',
      to: 'a',
      match: { path: { prefix: '/api/' } },
      stripPrefix: '/v1',
      headers: {
        request: { set: { 'X-A': '1', host: 'internal.example' }, add: { 'x-a': '2', Host: 'h' }, remove: ['transfer-encoding', 'host', 'expect'] },
        response: { remove: ['Upgrade'] }
      }
    }]
  })
  t.equal(result.ok, false)
  if (result.ok) return
  t.same(result.problems.map(p => [p.code, p.path]), [
    ['SY_ERR_CONFIG_REWRITE', 'backends.a.headers.response.set.Content-Length'],
    ['SY_ERR_CONFIG_REWRITE', 'proxy.requestId.header'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.add.x-a'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.add.Host'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.add.Host'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.remove[0]'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.remove[1]'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.remove[1]'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.request.remove[2]'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].headers.response.remove[0]'],
    ['SY_ERR_CONFIG_REWRITE', 'routes[0].stripPrefix']
  ])
  t.match(result.problems[2]?.message, /"x-a" is already named in `set`/)
  t.match(result.problems[3]?.message, /"host" can only be `set`/)
  t.match(result.problems[10]?.message, /"\/v1" is not a leading segment of the route's path prefix "\/api\/"/)
})

t.test('validation: header values with control characters and a bad stripPrefix are schema errors', async t => {
  const result = validateConfig({
    backends: { a: { targets: [targets.a] } },
    routes: [{ name: 'r', to: 'a', stripPrefix: '/api/', headers: { request: { set: { 'x-a': 'one\r\nInjected: yes' } } } }]
  })
  t.equal(result.ok, false)
  if (result.ok) return
  t.same(result.problems.map(p => [p.code, p.path]), [
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].headers.request.set.x-a'],
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].stripPrefix']
  ])
  t.match(result.problems[0]?.message, /header value without control characters/)
})

t.test('a valid config with every new field', async t => {
  const result = validateConfig({
    log: { level: 'info', format: 'pretty' },
    accessLog: { mode: 'sampled', sampleRate: 0.5, destination: '/tmp/access.log', query: true },
    tracing: { enabled: true, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'edge', sampleRatio: 0.25 },
    proxy: { trustForwarded: true, requestId: { header: 'X-Correlation-Id', trust: false } },
    backends: { a: { targets: [targets.a], headers: { response: { set: { 'x-version': '1.0' } } } } },
    routes: [{ name: 'r', to: 'a', match: { path: { prefix: '/api/' } }, stripPrefix: '/api', rewriteLocation: false, headers: { request: { set: { host: 'a.internal' } } } }]
  })
  t.same(result.ok ? [] : result.problems, [])
  const table = tableOf((result as { config: unknown }).config)
  t.same(table.proxy, { backendHeader: undefined, trustForwarded: true, requestIdHeader: 'x-correlation-id', trustRequestId: false })
  t.same(table.accessLog, { mode: 'sampled', sampleRate: 0.5, destination: '/tmp/access.log', query: true, pretty: true })
  t.same(table.tracing, { enabled: true, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'edge', sampleRatio: 0.25 })
  t.equal(table.routes[0]?.stripPrefix, '/api')
  t.equal(table.routes[0]?.rewriteLocation, false)
  const defaults = tableOf({ backends: { a: { targets: [targets.a] } }, routes: [{ name: 'r', to: 'a' }] })
  t.same(defaults.accessLog, { mode: 'off', sampleRate: 0.01, destination: 'stdout', query: false, pretty: false }, 'no access log unless asked for')
  t.same(defaults.tracing, { enabled: false, endpoint: undefined, serviceName: undefined, sampleRatio: 1 })
  t.equal(defaults.proxy.requestIdHeader, 'x-request-id')
  t.equal(defaults.proxy.trustRequestId, false)
})
