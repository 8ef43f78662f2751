/** Clients that misbehave slowly: uploads that stop sending, bodies that trickle. */
import { once } from 'node:events'
import { createServer } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { parseRaw, type RawResponse } from './raw.js'

export interface StalledUpload {
  readonly socket: Socket
  /** The response (status 0 when none came) once the server closed the connection. */
  readonly closed: Promise<RawResponse>
}

/** Sends a request head announcing `length` body bytes, then `sent` of them, then nothing. */
export function stalledUpload (baseUrl: string, opts: { path?: string, host?: string, length?: number, sent?: number } = {}): StalledUpload {
  const url = new URL(baseUrl)
  const length = opts.length ?? 100
  const head = `POST ${opts.path ?? '/upload'} HTTP/1.1\r\nHost: ${opts.host ?? 'app.test'}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`
  const socket = connect(Number(url.port), url.hostname, () => { socket.write(head + 'x'.repeat(opts.sent ?? 10)) })
  let data = ''
  socket.setEncoding('latin1').on('data', (d: string) => { data += d })
  const closed = new Promise<RawResponse>(resolve => {
    socket.on('error', () => {})
    socket.on('close', () => resolve(parseRaw(data)))
  })
  return { socket, closed }
}

export interface SinkBackend {
  readonly url: string
  /** Requests whose head arrived. */
  heads: number
  /** Request bodies cut off before their end (the proxy gave up on them). */
  aborted: number
  close (): Promise<void>
}

/**
 * An upstream that reads each request body to its end and answers
 * `{"bodyLength":n}`; `/delay/MS` waits first. A body cut off by the proxy
 * is counted, never an error.
 */
export async function startSinkBackend (): Promise<SinkBackend> {
  const server = createServer((req, res) => {
    sink.heads++
    let length = 0
    req.on('data', (c: Buffer) => { length += c.length })
    req.on('error', () => {})
    req.on('aborted', () => { sink.aborted++ })
    req.on('end', () => {
      const delay = Number(/^\/delay\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0)
      setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bodyLength: length })) }, delay)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const sink: SinkBackend = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads: 0,
    aborted: 0,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return sink
}

export interface GateBackend {
  readonly url: string
  /** Requests held now, waiting for `release()`. */
  readonly held: number
  /** Resolves once `n` requests are held. */
  holding (n: number): Promise<void>
  /** Answers every held request (200, `held`) and every later one at once. */
  release (): void
  close (): Promise<void>
}

/**
 * An upstream whose answers wait until the test opens the gate: a request
 * holds its connection exactly as long as the test wants, without timing.
 */
export async function startGateBackend (): Promise<GateBackend> {
  const waiting: Array<() => void> = []
  const watchers: Array<{ n: number, resolve: () => void }> = []
  let open = false
  const server = createServer((req, res) => {
    req.resume()
    const answer = (): void => { res.writeHead(200, { 'content-type': 'text/plain' }).end(`held ${req.url ?? ''}`) }
    if (open) { answer(); return }
    waiting.push(answer)
    for (const w of watchers.filter(w => waiting.length >= w.n)) { watchers.splice(watchers.indexOf(w), 1); w.resolve() }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get held () { return waiting.length },
    holding: async n => { if (waiting.length < n) await new Promise<void>(resolve => watchers.push({ n, resolve })) },
    release: () => {
      open = true
      for (const answer of waiting.splice(0)) answer()
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
