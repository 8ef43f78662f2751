/**
 * Graceful shutdown of a real `switchyard serve` process on SIGTERM:
 * /readyz turns 503 at once, requests keep being served through the drain
 * delay (with Connection: close), requests in flight finish, WebSockets get
 * a Close frame (1001), and the process exits 0.
 */
import t from 'tap'
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { stringify } from 'yaml'
import { request } from 'undici'
import { WebSocket, WebSocketServer } from 'ws'
import { startBackend } from '../helpers/backends.js'
import { startCli } from '../helpers/cli.js'

t.test('SIGTERM: drain, finish in-flight requests, close WebSockets, exit 0', async t => {
  const backend = await startBackend('app')
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  // The upstream streams messages all the time, so the proxy must find a frame boundary to close at.
  wss.on('connection', ws => {
    const timer = setInterval(() => ws.send('x'.repeat(3000)), 5)
    ws.on('close', () => clearInterval(timer))
  })
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    await backend.close()
  })
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-shutdown-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { drainDelay: '1500ms', timeout: '10s' },
    backends: { app: { targets: [backend.url] }, ws: { targets: [`http://127.0.0.1:${(wss.address() as AddressInfo).port}`] } },
    routes: [
      { name: 'ws', match: { path: { prefix: '/ws' } }, to: 'ws' },
      { name: 'r', to: 'app' }
    ]
  }))
  const { child, match } = await startCli(['serve', '--config', file], /"msg":"switchyard started"/)
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const { proxy, admin } = JSON.parse(match.input) as { proxy: string, admin: string }

  const ws = new WebSocket(proxy.replace('http:', 'ws:') + '/ws')
  await once(ws, 'open')
  let messages = 0
  ws.on('message', () => { messages++ })
  const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>

  const inFlight = request(proxy + '/delay/2500')
  await new Promise(resolve => setTimeout(resolve, 100)) // let it reach the upstream
  child.kill('SIGTERM')

  let ready = 200
  for (let i = 0; i < 100 && ready !== 503; i++) {
    const r = await request(admin + '/readyz')
    ready = r.statusCode
    await r.body.dump()
  }
  t.equal(ready, 503, '/readyz answers 503 during the drain')

  const during = await request(proxy + '/')
  t.equal(during.statusCode, 200, 'still serving during the drain delay')
  t.equal(during.headers.connection, 'close', 'and asking clients to reconnect elsewhere')
  await during.body.dump()

  const slow = await inFlight
  t.equal(slow.statusCode, 200, 'the request in flight at SIGTERM completes')
  t.equal((JSON.parse(await slow.body.text()) as { url: string }).url, '/delay/2500')

  const [code] = await wsClosed
  t.equal(code, 1001, 'the WebSocket got a Close frame (going away)')
  t.ok(messages > 0, `messages kept flowing until then (${messages})`)

  const [exitCode] = await once(child, 'exit') as [number | null]
  t.equal(exitCode, 0, 'exit 0')
  await t.rejects(request(proxy + '/'), { code: 'ECONNREFUSED' }, 'no longer listening')
})
