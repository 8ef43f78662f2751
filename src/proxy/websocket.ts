/**
 * HTTP Upgrade (WebSocket) passthrough: the handshake goes to the version
 * decide() chose, then bytes flow both ways untouched until either side
 * closes. A refused handshake (any non-101 answer) is relayed as it is.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { Backend, Decision } from '../routing/types.js'
import type { ProxyListener } from './forward.js'
import type { RequestInfo } from './request-info.js'
import { CLOSE_GOING_AWAY, FrameBoundaryTracker } from './ws-frames.js'
import type { Upstream } from './upstreams.js'

export interface UpgradeContext {
  readonly req: IncomingMessage
  readonly socket: Duplex
  readonly head: Buffer
  /** The path and headers for the upstream (stripped prefix, request ID and header rules applied). */
  readonly path: string
  readonly headers: readonly string[]
  readonly info: RequestInfo
  readonly decision: Decision
  /** The backend whose target takes the connection (the decided one, or its fallback). */
  readonly served: Backend
  readonly upstream: Upstream
  readonly logger: Logger
  readonly tunnels: TunnelRegistry
  readonly listener: ProxyListener
}

/**
 * An open upgraded connection. Bytes from the client are piped upstream as
 * they are; bytes from the upstream are forwarded while frame boundaries are
 * tracked, so that a drain can end the tunnel with a Close frame.
 */
class Tunnel {
  readonly #tracker = new FrameBoundaryTracker()
  #closing = false
  #closed = false

  constructor (readonly client: Duplex, readonly upstream: Duplex, private readonly onEnd: (t: Tunnel) => void) {
    upstream.on('data', (chunk: Buffer) => { this.#fromUpstream(chunk) })
    client.on('drain', () => { upstream.resume() })
    const end = (): void => { this.destroy() }
    upstream.on('error', end).on('close', end)
    client.on('error', end).on('close', end)
    client.pipe(upstream)
  }

  #fromUpstream (chunk: Buffer): void {
    if (this.#closed) return
    if (!this.#closing) {
      this.#tracker.feed(chunk)
      if (!this.client.write(chunk)) this.upstream.pause()
      return
    }
    // Draining: finish the frame in progress, then say goodbye.
    const end = this.#tracker.feedUntilBoundary(chunk)
    if (end === -1) {
      this.client.write(chunk)
      return
    }
    this.client.write(chunk.subarray(0, end))
    this.#sendClose()
  }

  /** Sends the client a Close frame (1001 going away) at the next frame boundary; destroys after `graceMs`. */
  close (graceMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closing = true
    if (this.#tracker.atBoundary) this.#sendClose()
    return new Promise(resolve => {
      const timer = setTimeout(() => { this.destroy(); resolve() }, graceMs)
      this.client.once('close', () => { clearTimeout(timer); this.destroy(); resolve() })
    })
  }

  #sendClose (): void {
    this.upstream.pause()
    this.client.write(CLOSE_GOING_AWAY)
  }

  destroy (): void {
    if (this.#closed) return
    this.#closed = true
    this.client.destroy()
    this.upstream.destroy()
    this.onEnd(this)
  }
}

/** The open tunnels of one proxy listener. */
export class TunnelRegistry {
  readonly #open = new Set<Tunnel>()

  get size (): number {
    return this.#open.size
  }

  /** Keeps the tunnel until either side closes; `onEnd` runs then, once. */
  add (client: Duplex, upstream: Duplex, onEnd?: () => void): void {
    this.#open.add(new Tunnel(client, upstream, t => {
      this.#open.delete(t)
      onEnd?.()
    }))
  }

  /** Ends every open tunnel with a Close frame; each gets `graceMs` to close before it is cut. */
  async closeAll (graceMs: number): Promise<void> {
    await Promise.all([...this.#open].map(async t => await t.close(graceMs)))
  }
}

function responseHead (statusCode: number, statusMessage: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`
  return head + '\r\n'
}

export function forwardUpgrade (ctx: UpgradeContext): void {
  const { req, socket, head, decision, served, upstream, listener, info } = ctx
  const target = new URL(upstream.origin)
  const flat = ctx.headers
  const headers: OutgoingHttpHeaders = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string
    const prev = headers[name]
    // A header rule's `add` can name a header twice: both values go.
    headers[name] = prev === undefined ? flat[i + 1] : [...(Array.isArray(prev) ? prev : [String(prev)]), flat[i + 1] as string]
  }
  headers.connection = 'Upgrade'
  headers.upgrade = req.headers.upgrade ?? 'websocket'

  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  const preq = send({
    host: target.hostname,
    port: target.port === '' ? undefined : Number(target.port),
    method: req.method,
    path: ctx.path,
    headers,
    agent: false
  })
  preq.setTimeout(decision.route.timeoutMs, () => preq.destroy(Object.assign(new Error('upgrade timed out'), { code: 'ETIMEDOUT' })))
  socket.on('error', () => preq.destroy())

  preq.on('upgrade', (pres: IncomingMessage, psocket: Duplex, phead: Buffer) => {
    preq.setTimeout(0)
    const code = pres.statusCode ?? 101
    socket.write(responseHead(code, pres.statusMessage ?? 'Switching Protocols', [...pres.rawHeaders, info.idHeader, info.id]))
    if (head.length > 0) psocket.write(head)
    listener.onUpgrade?.(decision, served, code)
    ctx.tunnels.add(socket, psocket, () => listener.onTunnelClosed?.(decision, served))
    // Bytes the upstream sent along with its 101 are the first of the stream.
    if (phead.length > 0) psocket.unshift(phead)
  })

  preq.on('response', (pres: IncomingMessage) => {
    // The upstream refused the upgrade: relay its answer, then close. Node has
    // already de-chunked the body, so it goes out close-delimited.
    const headers: string[] = []
    for (let i = 0; i + 1 < pres.rawHeaders.length; i += 2) {
      const name = (pres.rawHeaders[i] as string).toLowerCase()
      if (name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive') continue
      headers.push(pres.rawHeaders[i] as string, pres.rawHeaders[i + 1] as string)
    }
    headers.push(info.idHeader, info.id, 'Connection', 'close')
    listener.onUpgrade?.(decision, served, pres.statusCode ?? 502)
    socket.write(responseHead(pres.statusCode ?? 502, pres.statusMessage ?? '', headers))
    pres.pipe(socket)
  })

  preq.on('error', (err: NodeJS.ErrnoException) => {
    ctx.logger.debug({ err, backend: decision.backend.name, target: upstream.origin }, 'upgrade to upstream failed')
    if (socket.writable) {
      const timedOut = err.code === 'ETIMEDOUT'
      listener.onUpgrade?.(decision, served, timedOut ? 504 : 502)
      socket.end(`HTTP/1.1 ${timedOut ? '504 Gateway Timeout' : '502 Bad Gateway'}\r\nContent-Length: 0\r\n${info.idHeader}: ${info.id}\r\nConnection: close\r\n\r\n`)
    }
  })
  preq.end()
}
