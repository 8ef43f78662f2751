/**
 * The data path: a plain node:http server whose request handler snapshots
 * the running config, calls decide(), and hands the request to the chosen
 * target's undici pool. Deliberately not fastify: the README's performance
 * section gives the numbers (fastify's per-request machinery alone costs
 * more than the whole routing decision). fastify serves the admin listener.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { decide } from '../routing/decide.js'
import type { Decision, Entropy, ServerSettings } from '../routing/types.js'
import type { ConfigStore } from './config-store.js'
import { Exchange, sendError, type ProxyListener, type RejectReason } from './forward.js'
import { clientAddress, upstreamRequestHeaders } from './headers.js'
import { NodeRequestView } from './request-view.js'
import { forwardUpgrade, type TunnelRegistry } from './websocket.js'
import { selectTarget } from './upstreams.js'

export const defaultEntropy: Entropy = {
  random: Math.random,
  newId: randomUUID
}

export interface ProxyServerOptions {
  readonly store: ConfigStore
  readonly logger: Logger
  readonly entropy?: Entropy
  readonly listener?: ProxyListener
  /** Client-facing limits (from the config at start). */
  readonly settings: ServerSettings
  /** While true, responses close their connection so that clients move to other replicas. */
  readonly draining?: () => boolean
  /** Where upgraded (WebSocket) connections are kept, so a drain can close them. */
  readonly tunnels: TunnelRegistry
}

const noopListener: ProxyListener = { onExchangeStart () {}, onExchangeEnd () {} }

function hasBody (req: IncomingMessage): boolean {
  const h = req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const len = h['content-length']
  return len !== undefined && len !== '0'
}

/** Response headers switchyard adds: the sticky cookie and the optional backend header. */
function extraHeaders (d: Decision, backendHeader: string | undefined): string[] | undefined {
  let out: string[] | undefined
  if (d.setStickyId !== undefined) {
    const sticky = d.route.sticky
    if (sticky !== undefined) out = ['set-cookie', `${sticky.name}=${d.setStickyId}${sticky.cookieAttributes}`]
  }
  if (backendHeader !== undefined) (out ??= []).push(backendHeader, d.backend.name)
  return out
}

export function createProxyServer (opts: ProxyServerOptions): Server {
  const { store, logger, settings } = opts
  const entropy = opts.entropy ?? defaultEntropy
  const listener = opts.listener ?? noopListener
  const draining = opts.draining ?? (() => false)
  // Node keeps at most this many header fields; one more than allowed tells us the request has too many.
  const maxHeaderFields = settings.maxHeaders

  function onRequest (req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now()
    // Refused requests also lose their connection, like those Node's parser refuses.
    if (req.rawHeaders.length > 2 * maxHeaderFields) {
      res.shouldKeepAlive = false
      listener.onRejected?.('headers_too_large')
      sendError(res, 431, `too many header fields (limit ${maxHeaderFields})`)
      return
    }
    if (req.headers.host === undefined && req.httpVersionMinor === 1) {
      res.shouldKeepAlive = false
      listener.onRejected?.('malformed')
      sendError(res, 400, 'bad request (HTTP/1.1 needs a Host header)')
      return
    }
    if (draining()) res.shouldKeepAlive = false
    const active = store.current
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      listener.onRejected?.('no_route')
      sendError(res, 404, 'no route matches this request')
      return
    }
    const proxy = active.table.proxy
    const route = decision.route
    const dispatch = {
      path: view.url,
      method: view.method as 'GET',
      headers: upstreamRequestHeaders(req.headers, clientAddress(req), proxy.trustForwarded),
      body: hasBody(req) ? req : null,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.idleTimeoutMs
    }
    new Exchange(req, res, decision, active.runtimes, dispatch, extraHeaders(decision, proxy.backendHeader), start, listener).start()
  }

  function onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const active = store.current
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      listener.onRejected?.('no_route')
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const target = selectTarget(active.runtimes, decision.backend.index, undefined)
    if (target === undefined) {
      listener.onUpgrade?.(decision, decision.backend, 503)
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    forwardUpgrade({ req, socket, head, view, decision, served: target.runtime.backend, upstream: target.upstream, trustForwarded: active.table.proxy.trustForwarded, logger, tunnels: opts.tunnels, listener })
  }

  const server = createServer({
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    headersTimeout: settings.headersTimeoutMs,
    // Whole-request timeout off: long uploads and streams are bounded by the
    // header timeout and the route's idle timeout instead.
    requestTimeout: 0,
    maxHeaderSize: settings.maxHeaderBytes,
    // Checked in onRequest instead, to answer with a body that says why.
    requireHostHeader: false,
    // How often Node enforces headersTimeout; its default (30 s) would let a
    // slow-loris client hold a connection twice as long as configured.
    connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs)
  }, onRequest)
  server.maxHeadersCount = maxHeaderFields + 1
  server.on('upgrade', onUpgrade)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const reason = onClientError(err, socket)
    if (reason !== undefined) listener.onRejected?.(reason)
  })
  return server
}

const CLIENT_ERRORS: Readonly<Record<string, [number, string, RejectReason]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'timeout'],
  HPE_HEADERS_TIMEOUT: [408, 'Request Timeout', 'timeout']
}

/**
 * A request Node's parser rejected (malformed line, bad header bytes,
 * Content-Length with Transfer-Encoding, duplicate Content-Length, oversized
 * head, slow-loris timeout): answer it clearly and close that connection;
 * nothing reaches an upstream and the process carries on. Returns why, or
 * undefined when the client had already gone and got no answer.
 */
function onClientError (err: NodeJS.ErrnoException, socket: Duplex): RejectReason | undefined {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return undefined
  }
  const [status, text, why] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'malformed']
  const reason = status === 400 ? ` (${(err.code ?? 'malformed request').replace(/^HPE_/, '').toLowerCase()})` : ''
  const body = `${text.toLowerCase()}${reason}\n`
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  return why
}
