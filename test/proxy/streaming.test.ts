/**
 * Bodies are streamed both ways, never buffered whole: each test holds the
 * other side back until the first part has crossed the proxy, which could
 * not happen if the proxy waited for the whole body.
 */
import t from 'tap'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { startWith } from '../helpers/switchyard.js'

interface Gate { promise: Promise<void>, open: () => void }
function gate (): Gate {
  let open!: () => void
  const promise = new Promise<void>(resolve => { open = resolve })
  return { promise, open }
}

async function serve (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string, close: () => void }> {
  const server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close() } }
}

t.test('the response body streams: the first chunk arrives before the upstream has finished', async t => {
  const release = gate()
  const upstream = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first part;')
    // The rest is sent only after the client has seen the first part through the proxy.
    release.promise.then(() => res.end('second part'), () => {})
  })
  const p = await startWith({ backends: { b: { targets: [upstream.url] } }, routes: [{ name: 'r', to: 'b' }] })
  t.teardown(async () => { release.open(); await p.close(); upstream.close() })

  const req = httpRequest(p.sy.proxyUrl + '/')
  req.end()
  const [res] = await once(req, 'response') as [IncomingMessage]
  res.setEncoding('utf8')
  const [first] = await once(res, 'data') as [string]
  t.equal(first, 'first part;')
  release.open()
  let rest = ''
  for await (const chunk of res) rest += String(chunk)
  t.equal(rest, 'second part')
})

t.test('the request body streams: the upstream sees the first part before the client sends the rest', async t => {
  const firstSeen = gate()
  const upstream = await serve((req, res) => {
    const hash = createHash('sha256')
    let length = 0
    req.on('data', (c: Buffer) => {
      hash.update(c)
      length += c.length
      firstSeen.open()
    })
    req.on('end', () => res.end(JSON.stringify({ length, sha256: hash.digest('hex') })))
  })
  const p = await startWith({ backends: { b: { targets: [upstream.url] } }, routes: [{ name: 'r', to: 'b' }] })
  t.teardown(async () => { firstSeen.open(); await p.close(); upstream.close() })

  const part1 = randomBytes(64 * 1024)
  const part2 = randomBytes(3 * 1024 * 1024)
  const req = httpRequest(p.sy.proxyUrl + '/upload', { method: 'POST', headers: { 'transfer-encoding': 'chunked' } })
  req.write(part1)
  await firstSeen.promise // would never resolve if the proxy buffered the whole body
  req.end(part2)
  const [res] = await once(req, 'response') as [IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  t.same(JSON.parse(body), { length: part1.length + part2.length, sha256: createHash('sha256').update(part1).update(part2).digest('hex') })
})

t.test('a large response arrives intact (backpressure honoured)', async t => {
  const big = randomBytes(8 * 1024 * 1024)
  const upstream = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': big.length })
    res.end(big)
  })
  const p = await startWith({ backends: { b: { targets: [upstream.url] } }, routes: [{ name: 'r', to: 'b' }] })
  t.teardown(async () => { await p.close(); upstream.close() })
  const req = httpRequest(p.sy.proxyUrl + '/')
  req.end()
  const [res] = await once(req, 'response') as [IncomingMessage]
  res.pause()
  // Let the proxy fill its buffers while the client reads nothing.
  await new Promise(resolve => setImmediate(resolve))
  const hash = createHash('sha256')
  let length = 0
  for await (const chunk of res) { hash.update(chunk as Buffer); length += (chunk as Buffer).length }
  t.equal(length, big.length)
  t.equal(hash.digest('hex'), createHash('sha256').update(big).digest('hex'))
})
