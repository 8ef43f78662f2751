/** WebSocket upgrades reach the version the rules choose, and frames flow both ways. */
import t from 'tap'
import { WebSocket } from 'ws'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { startWith } from '../helpers/switchyard.js'
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.js'

async function wsBackend (version: string): Promise<WsBackend> {
  return await startWsBackend((ws, req) => {
    ws.send(`hello from ${version} path=${req.url ?? ''}`)
    ws.on('message', (data) => ws.send(`${version} echo: ${String(data)}`))
  })
}

function collect (ws: WebSocket, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = []
    ws.on('message', d => { out.push(String(d)); if (out.length === n) resolve(out) })
    ws.on('error', reject)
  })
}

t.test('websocket passthrough to the chosen version', async t => {
  const v5 = await wsBackend('0.5')
  const v6 = await wsBackend('0.6')
  const p = await startWith({
    backends: { stable: { targets: [v5.url] }, canary: { targets: [v6.url] } },
    routes: [{ name: 'ws', rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }], to: 'stable' }]
  })
  t.teardown(async () => { await p.close(); await v5.close(); await v6.close() })
  const wsUrl = p.sy.proxyUrl.replace('http:', 'ws:')

  const plain = new WebSocket(`${wsUrl}/chat?room=1`)
  const plainMsgs = collect(plain, 3)
  await once(plain, 'open')
  plain.send('one')
  plain.send('two')
  t.same(await plainMsgs, ['hello from 0.5 path=/chat?room=1', '0.5 echo: one', '0.5 echo: two'])
  plain.close()

  const beta = new WebSocket(`${wsUrl}/chat`, { headers: { 'x-canary': 'always' } })
  const betaMsgs = collect(beta, 2)
  await once(beta, 'open')
  beta.send('x'.repeat(100_000))
  const got = await betaMsgs
  t.equal(got[0], 'hello from 0.6 path=/chat')
  t.equal(got[1], `0.6 echo: ${'x'.repeat(100_000)}`)
  beta.close()
  await once(beta, 'close')
})

t.test('a refused upgrade is relayed; a dead upstream gives 502', async t => {
  const { createServer } = await import('node:http')
  const server = createServer((_req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }).end('no websockets here') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const refusing = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const p = await startWith({
    backends: { refusing: { targets: [refusing] }, dead: { targets: ['http://127.0.0.1:1'] } },
    routes: [{ name: 'r', rules: [{ name: 'dead', when: { headers: { 'x-dead': { present: true } } }, to: 'dead' }], to: 'refusing' }]
  })
  t.teardown(async () => { await p.close(); server.close() })
  const wsUrl = p.sy.proxyUrl.replace('http:', 'ws:')

  const refused = new WebSocket(wsUrl)
  refused.on('error', () => {}) // terminate() while connecting reports an error; expected here
  const [, res] = await once(refused, 'unexpected-response') as [unknown, import('node:http').IncomingMessage]
  t.equal(res.statusCode, 426)
  refused.terminate()

  const dead = new WebSocket(wsUrl, { headers: { 'x-dead': '1' } })
  dead.on('error', () => {})
  const [, res2] = await once(dead, 'unexpected-response') as [unknown, import('node:http').IncomingMessage]
  t.equal(res2.statusCode, 502)
  dead.terminate()
})
