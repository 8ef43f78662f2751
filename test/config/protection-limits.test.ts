/**
 * The client and queue limits in the config: their defaults (which protect
 * a backend with no configuration at all), their compiled values, and
 * located errors for bad values.
 */
import t from 'tap'
import { buildFromText } from '../../src/routing/build.js'

const minimal = `backends:
  app:
    targets: [http://127.0.0.1:9001]
routes:
  - name: r
    to: app
`

t.test('defaults: 60s body timeout, 1024 waiting per target for at most connectTimeout, no body size limit', async t => {
  const built = buildFromText(minimal)
  t.equal(built.ok, true)
  if (!built.ok) return
  const { server, backends, routes } = built.table
  t.equal(server.bodyTimeoutMs, 60_000)
  t.same([backends[0]?.maxPending, backends[0]?.queueTimeoutMs, backends[0]?.connectTimeoutMs], [1024, 5000, 5000])
  t.equal(routes[0]?.maxBodyBytes, undefined)
  t.equal(routes[0]?.timeoutMs, 30_000)
})

t.test('configured values; queueTimeout follows connectTimeout unless set', async t => {
  const built = buildFromText(`listen:
  bodyTimeout: 5s
backends:
  app:
    targets: [http://127.0.0.1:9001]
    connectTimeout: 2s
    maxPending: 0
  other:
    targets: [http://127.0.0.1:9002]
    connectTimeout: 2s
    queueTimeout: 0s
routes:
  - name: r
    to: app
    maxBodyBytes: 1048576
    timeout: 2500ms
  - name: s
    to: other
`)
  t.equal(built.ok, true)
  if (!built.ok) return
  const { server, backends, routes } = built.table
  t.equal(server.bodyTimeoutMs, 5000)
  t.same(backends.map(b => [b.name, b.maxPending, b.queueTimeoutMs]), [['app', 0, 2000], ['other', 1024, 0]])
  t.same(routes.map(r => [r.name, r.maxBodyBytes, r.timeoutMs]), [['r', 1048576, 2500], ['s', undefined, 30_000]])
})

t.test('bad values are located errors', async t => {
  const built = buildFromText(`listen:
  bodyTimeout: forever
backends:
  app:
    targets: [http://127.0.0.1:9001]
    maxPending: -1
    queueTimeout: soon
routes:
  - name: r
    to: app
    maxBodyBytes: 10MB
`)
  t.equal(built.ok, false)
  if (built.ok) return
  t.same(built.problems.map(p => [p.code, p.path, p.line, p.message]), [
    ['SY_ERR_CONFIG_SCHEMA', 'listen.bodyTimeout', 2, 'must be a duration such as 500ms, 30s, 1m30s'],
    ['SY_ERR_CONFIG_SCHEMA', 'backends.app.maxPending', 6, 'must be >= 0'],
    ['SY_ERR_CONFIG_SCHEMA', 'backends.app.queueTimeout', 7, 'must be a duration such as 500ms, 30s, 1m30s'],
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].maxBodyBytes', 11, 'must be integer']
  ])
})
