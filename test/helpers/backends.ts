/**
 * Real upstream servers on 127.0.0.1 for the tests. Each answers with JSON
 * describing what it received, so tests can assert exactly what the proxy
 * forwarded; a few paths produce errors, delays and streams on demand.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Socket } from 'node:net'

export interface EchoReply {
  name: string
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  bodyLength: number
  bodySha256: string
}

export interface Backend {
  readonly name: string
  readonly url: string
  readonly port: number
  readonly server: Server
  /** Requests received so far. */
  count: number
  close (): Promise<void>
}

function waitMs (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * Paths:
 * - `/status/NNN` answers NNN;
 * - `/delay/MS` waits MS before answering;
 * - `/stream/N` sends N chunks of 1 KiB, 10 ms apart;
 * - `/echo-body` streams the request body back as it arrives;
 * - anything else: the JSON EchoReply.
 */
export async function startBackend (name: string, port = 0): Promise<Backend> {
  const sockets = new Set<Socket>()
  const backend: Backend = {
    name,
    url: '',
    port: 0,
    server: createServer(handle),
    count: 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => backend.server.close(() => resolve()))
    }
  }

  async function handle (req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    backend.count++
    const url = req.url ?? '/'
    res.setHeader('x-backend', name)
    if (url === '/echo-body') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      req.pipe(res)
      return
    }
    const hash = createHash('sha256')
    let length = 0
    for await (const chunk of req) {
      hash.update(chunk as Buffer)
      length += (chunk as Buffer).length
    }
    const status = /^\/status\/(\d{3})/.exec(url)
    if (status !== null) {
      res.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end(`status ${status[1]} from ${name}\n`)
      return
    }
    const delay = /^\/delay\/(\d+)/.exec(url)
    if (delay !== null) await waitMs(Number(delay[1]))
    const stream = /^\/stream\/(\d+)/.exec(url)
    if (stream !== null) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      for (let i = 0; i < Number(stream[1]); i++) {
        res.write(Buffer.alloc(1024, 97 + (i % 26)))
        await waitMs(10)
      }
      res.end()
      return
    }
    const reply: EchoReply = {
      name,
      method: req.method ?? '',
      url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: length,
      bodySha256: hash.digest('hex')
    }
    const body = JSON.stringify(reply)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  }

  backend.server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve, reject) => {
    backend.server.once('error', reject)
    backend.server.listen(port, '127.0.0.1', () => resolve())
  })
  const p = (backend.server.address() as AddressInfo).port
  Object.assign(backend, { port: p, url: `http://127.0.0.1:${p}` })
  return backend
}

/** A port that nothing listens on (bound then released). */
export async function deadPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', () => resolve()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

/** Starts one echo backend per name for a whole test file; they close when the file's tests end. */
export async function startBackends<N extends string> (t: { teardown (fn: () => Promise<void>): void }, ...names: N[]): Promise<Record<N, Backend>> {
  const started = {} as Record<N, Backend>
  for (const name of names) started[name] = await startBackend(name)
  t.teardown(async () => { await Promise.all(Object.values<Backend>(started).map(async b => await b.close())) })
  return started
}
