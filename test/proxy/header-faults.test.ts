/**
 * Header faults found by trying switchyard as a new user would (issue 11):
 * the backend header after a failover, hop-by-hop response headers named
 * in the upstream's Connection header, and the client's Forwarded and
 * X-Real-IP under trustForwarded. Each case failed before its fix.
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deadPort, startBackends, type EchoReply } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

const { backup, app } = await startBackends(t, 'backup', 'app')
const shutdown = { drainDelay: '0s', timeout: '1s' }

t.test('after a failover the backend header names the backend that served', async t => {
  const p = await startWith({
    shutdown,
    proxy: { backendHeader: 'x-switchyard-backend' },
    backends: {
      primary: { targets: [`http://127.0.0.1:${await deadPort()}`], fallback: 'backup' },
      backup: { targets: [backup.url] }
    },
    routes: [{ name: 'r', to: 'primary' }]
  })
  t.teardown(() => p.close())
  const r = await p.get('/')
  t.equal(r.status, 200)
  t.equal(r.json<EchoReply>().name, 'backup', 'the fallback served')
  t.equal(r.headers['x-switchyard-backend'], 'backup')
  const direct = await p.get('/again')
  t.equal(direct.headers['x-switchyard-backend'], 'backup', 'also while the primary is ejected')
})

t.test('response headers the upstream names in its Connection header are not relayed', async t => {
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { connection: 'x-hop, keep-alive', 'x-hop': 'for switchyard only', 'x-other-hop': 'also', 'x-kept': 'yes', 'content-length': 2 })
    res.end('ok')
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const p = await startWith({
    shutdown,
    backends: { app: { targets: [`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`] } },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => p.close())
  const r = await p.get('/')
  t.equal(r.status, 200)
  t.equal(r.text, 'ok')
  t.equal(r.headers['x-hop'], undefined)
  t.equal(r.headers['x-kept'], 'yes')
  t.equal(r.headers['x-other-hop'], 'also', 'only the listed names go')
})

t.test('Forwarded and X-Real-IP follow trustForwarded', async t => {
  const sent = { forwarded: 'for=203.0.113.9;proto=https', 'x-real-ip': '203.0.113.9' }
  for (const [trust, forwarded, realIp] of [[false, undefined, '127.0.0.1'], [true, sent.forwarded, sent['x-real-ip']]] as const) {
    const p = await startWith({
      shutdown,
      proxy: { trustForwarded: trust },
      backends: { app: { targets: [app.url] } },
      routes: [{ name: 'r', to: 'app' }]
    })
    const seen = (await p.get('/', sent)).json<EchoReply>().headers
    t.equal(seen.forwarded, forwarded, `trustForwarded ${String(trust)}: Forwarded`)
    t.equal(seen['x-real-ip'], realIp, `trustForwarded ${String(trust)}: X-Real-IP`)
    const plain = (await p.get('/')).json<EchoReply>().headers
    t.equal(plain['x-real-ip'], '127.0.0.1', `trustForwarded ${String(trust)}: X-Real-IP from the socket when the client sends none`)
    t.equal(plain.forwarded, undefined)
    await p.close()
  }
})
