/**
 * HTTP Upgrade (WebSocket) passthrough: the handshake goes to the version
 * decide() chose, then bytes flow both ways untouched until either side
 * closes. A refused handshake (any non-101 answer) is relayed as it is.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { Decision } from '../routing/types.js'
import { clientAddress, upstreamRequestHeaders } from './headers.js'
import type { NodeRequestView } from './request-view.js'
import type { Upstream } from './upstreams.js'

export interface UpgradeContext {
  readonly req: IncomingMessage
  readonly socket: Duplex
  readonly head: Buffer
  readonly view: NodeRequestView
  readonly decision: Decision
  readonly upstream: Upstream
  readonly trustForwarded: boolean
  readonly logger: Logger
}

/** Open upgraded connections, so that a drain can close them politely. */
export const openTunnels = new Set<Duplex>()

function responseHead (statusCode: number, statusMessage: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`
  return head + '\r\n'
}

export function forwardUpgrade (ctx: UpgradeContext): void {
  const { req, socket, head, view, decision, upstream } = ctx
  const target = new URL(upstream.origin)
  const flat = upstreamRequestHeaders(req.headers, clientAddress(req), ctx.trustForwarded)
  const headers: OutgoingHttpHeaders = {}
  for (let i = 0; i + 1 < flat.length; i += 2) headers[flat[i] as string] = flat[i + 1]
  headers.connection = 'Upgrade'
  headers.upgrade = req.headers.upgrade ?? 'websocket'

  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  const preq = send({
    host: target.hostname,
    port: target.port === '' ? undefined : Number(target.port),
    method: req.method,
    path: view.url,
    headers,
    agent: false
  })
  preq.setTimeout(decision.route.timeoutMs, () => preq.destroy(Object.assign(new Error('upgrade timed out'), { code: 'ETIMEDOUT' })))
  socket.on('error', () => preq.destroy())

  preq.on('upgrade', (pres: IncomingMessage, psocket: Duplex, phead: Buffer) => {
    preq.setTimeout(0)
    socket.write(responseHead(pres.statusCode ?? 101, pres.statusMessage ?? 'Switching Protocols', pres.rawHeaders))
    if (phead.length > 0) socket.write(phead)
    if (head.length > 0) psocket.write(head)
    openTunnels.add(socket)
    const close = (): void => {
      openTunnels.delete(socket)
      socket.destroy()
      psocket.destroy()
    }
    psocket.on('error', close).on('close', close)
    socket.on('close', close)
    socket.pipe(psocket)
    psocket.pipe(socket)
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
    headers.push('Connection', 'close')
    socket.write(responseHead(pres.statusCode ?? 502, pres.statusMessage ?? '', headers))
    pres.pipe(socket)
  })

  preq.on('error', (err: NodeJS.ErrnoException) => {
    ctx.logger.debug({ err, backend: decision.backend.name, target: upstream.origin }, 'upgrade to upstream failed')
    if (socket.writable) {
      const status = err.code === 'ETIMEDOUT' ? '504 Gateway Timeout' : '502 Bad Gateway'
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    }
  })
  preq.end()
}
