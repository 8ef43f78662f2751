/**
 * HTTP/2, TLS and gRPC settings in the config: defaults, compiled values,
 * and located errors (a protocol against the wrong scheme, an unknown gRPC
 * code). Also the pure gRPC helpers: grpc-timeout parsing and status
 * mapping.
 */
import t from 'tap'
import { buildFromText } from '../../src/routing/build.js'
import { stillWeighted } from '../../src/routing/reachable.js'
import { GRPC_CODE_NAMES, grpcCodeOfHttpStatus, parseGrpcStatus, parseGrpcTimeout } from '../../src/util/grpc-status.js'
import { encodeGrpcMessage, isGrpcContentType } from '../../src/proxy/grpc.js'

t.test('defaults: cleartext, HTTP/2 on (100 streams, 200 resets/s, 10 MiB, 30s stream drain), http1 upstreams, the seven gRPC error codes', async t => {
  const built = buildFromText('backends:\n  app:\n    targets: [http://127.0.0.1:9001]\nroutes:\n  - name: r\n    to: app\n')
  t.equal(built.ok, true)
  if (!built.ok) return
  const { server, backends, routes } = built.table
  t.equal(server.tls, undefined)
  t.same(server.http2, { enabled: true, maxConcurrentStreams: 100, maxResetsPerSecond: 200, maxSettingsPerSecond: 100, maxPingsPerSecond: 1000, maxSessionMemoryMiB: 10, streamDrainGraceMs: 30_000 })
  t.same([backends[0]?.protocol, backends[0]?.tls], ['http1', undefined])
  const errors = GRPC_CODE_NAMES.filter((_, i) => routes[0]?.grpcErrorCodes[i] === true)
  t.same(errors, ['UNKNOWN', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS'])
})

t.test('configured: TLS pairs, HTTP/2 limits, upstream protocols and TLS, a route\'s own gRPC error codes', async t => {
  const built = buildFromText(`listen:
  tls:
    certificates:
      - { cert: /certs/a.crt, key: /certs/a.key }
  http2: { enabled: false, maxConcurrentStreams: 10 }
backends:
  a: { targets: [http://127.0.0.1:9001], protocol: h2c }
  b: { targets: ['https://10.0.0.2:8443'], protocol: h2, tls: { ca: /ca.pem, serverName: api.internal } }
routes:
  - name: r
    split: { a: 1, b: 1 }
    grpc: { errorCodes: [INTERNAL, NOT_FOUND] }
`)
  t.equal(built.ok, true, built.ok ? '' : JSON.stringify(built.problems))
  if (!built.ok) return
  const { server, backends, routes } = built.table
  t.same(server.tls, { certificates: [{ cert: '/certs/a.crt', key: '/certs/a.key' }] })
  t.same([server.http2.enabled, server.http2.maxConcurrentStreams], [false, 10])
  t.same(backends.map(b => [b.protocol, b.tls]), [['h2c', undefined], ['h2', { caFile: '/ca.pem', insecure: false, serverName: 'api.internal' }]])
  t.same(GRPC_CODE_NAMES.filter((_, i) => routes[0]?.grpcErrorCodes[i] === true), ['NOT_FOUND', 'INTERNAL'])
})

t.test('h2c needs http:// targets, h2 https://; gRPC codes are the 17 names', async t => {
  const built = buildFromText(`backends:
  a: { targets: ['https://127.0.0.1:9001'], protocol: h2c }
  b: { targets: [http://127.0.0.1:9002], protocol: h2 }
routes:
  - name: r
    split: { a: 1, b: 1 }
    grpc: { errorCodes: [BROKEN] }
`)
  t.equal(built.ok, false)
  if (built.ok) return
  t.same(built.problems.map(p => [p.code, p.path]), [
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].grpc.errorCodes[0]'],
    ['SY_ERR_CONFIG_TARGET_URL', 'backends.a.targets[0]'],
    ['SY_ERR_CONFIG_TARGET_URL', 'backends.b.targets[0]']
  ])
  t.match(built.problems.find(p => p.path === 'backends.a.targets[0]')?.message, /protocol h2c needs http:\/\/ targets/)
})

t.test('grpc-timeout: units H M S m u n, rounded up to ms; anything else is ignored', async t => {
  const cases: Array<[string | undefined, number | undefined]> = [
    ['1H', 3_600_000], ['2M', 120_000], ['3S', 3000], ['250m', 250], ['1500u', 2], ['1n', 1], ['0m', 0],
    [undefined, undefined], ['', undefined], ['S', undefined], ['1s', undefined], ['-1S', undefined], ['123456789S', undefined], ['1.5S', undefined]
  ]
  for (const [value, ms] of cases) t.equal(parseGrpcTimeout(value), ms, String(value))
})

t.test('grpc-status parsing and the HTTP → gRPC mapping of clients', async t => {
  t.same(['0', '13', '16', '17', 'x', '', undefined, '013'].map(v => parseGrpcStatus(v)), [0, 13, 16, 2, 2, 2, 2, 2])
  t.same([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(grpcCodeOfHttpStatus), [13, 16, 7, 12, 14, 14, 14, 14, 2, 2])
  t.same(['application/grpc', 'application/grpc+proto', 'application/grpc;charset=x', 'application/grpc-web', 'application/grpcx', undefined, 'text/plain'].map(isGrpcContentType), [true, true, true, false, false, false, false])
})

t.test('grpc-message: printable ASCII as is, the rest and % percent-encoded as UTF-8', async t => {
  t.equal(encodeGrpcMessage('no route: a;b (x)'), 'no route: a;b (x)')
  t.equal(encodeGrpcMessage('100% é\n'), '100%25 %C3%A9%0A')
})

t.test('stillWeighted: a stream keeps its backend while its route and rule still give it weight', async t => {
  const built = buildFromText(`backends:
  a: { targets: [http://127.0.0.1:9001] }
  b: { targets: [http://127.0.0.1:9002] }
routes:
  - name: r
    rules: [{ name: beta, when: { headers: { x-beta: { present: true } } }, to: b }]
    split: { a: 0, b: 5 }
`)
  if (!built.ok) throw new Error('config')
  const table = built.table
  const cases: Array<[string, string, string, boolean]> = [
    ['r', 'split', 'b', true], ['r', 'split', 'a', false], ['r', 'beta', 'b', true], ['r', 'beta', 'a', false],
    ['r', 'gone', 'b', false], ['other', 'split', 'b', false]
  ]
  for (const [route, rule, backend, want] of cases) t.equal(stillWeighted(table, route, rule, backend), want, `${route}/${rule}/${backend}`)
})
