/**
 * The data path: a plain node:http server whose request handler snapshots
 * the running config, calls decide(), and hands the request to the chosen
 * target's undici pool. Deliberately not fastify: the README's performance
 * section gives the numbers (fastify's per-request machinery alone costs
 * more than the whole routing decision). fastify serves the admin listener.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex, Readable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { decide } from '../routing/decide.js'
import type { Decision, Entropy, ServerSettings } from '../routing/types.js'
import type { ConfigStore } from '../runtime/config-store.js'
import { Exchange, sendError, type ProxyListener, type RejectReason } from './forward.js'
import { clientAddress, upstreamRequestHeaders } from './headers.js'
import { NodeRequestView } from './request-view.js'
import { forwardUpgrade, type TunnelRegistry } from './websocket.js'
import { declaredTooLarge, limitedBody } from './body-limit.js'
import { answerOptionsAsterisk, isH2cUpgrade, overflowedInRequestLine, refuseConnect, replayWithoutUpgrade } from './self-answered.js'
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

/** The sticky cookie of a new user, as response headers (the backend header is added by the exchange). */
function extraHeaders (d: Decision): string[] | undefined {
  if (d.setStickyId === undefined) return undefined
  const sticky = d.route.sticky
  return sticky === undefined ? undefined : ['set-cookie', `${sticky.name}=${d.setStickyId}${sticky.cookieAttributes}`]
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
    if (req.url === '*') {
      answerAsteriskForm(req, res)
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
    let body: Readable | null = hasBody(req) ? req : null
    if (body !== null && route.maxBodyBytes !== undefined) {
      if (declaredTooLarge(req, route.maxBodyBytes)) {
        // Refused before a byte of it is read; the connection closes rather than read it all.
        res.shouldKeepAlive = false
        listener.onRejected?.('body_too_large')
        sendError(res, 413, `request body larger than ${route.maxBodyBytes} bytes (route ${route.name})`)
        return
      }
      if (req.headers['content-length'] === undefined) body = limitedBody(req, route.maxBodyBytes)
    }
    const dispatch = {
      path: view.url,
      method: view.method as 'GET',
      headers: upstreamRequestHeaders(req.headers, clientAddress(req), proxy.trustForwarded),
      body,
      // The route's timeout runs in the exchange, from the request's arrival.
      headersTimeout: 0,
      bodyTimeout: route.idleTimeoutMs
    }
    new Exchange(req, res, decision, active.runtimes, dispatch, extraHeaders(decision), proxy.backendHeader, start, listener, settings.bodyTimeoutMs).start()
  }

  /** `OPTIONS *` is a ping of switchyard itself; any other method has no business with `*`. */
  function answerAsteriskForm (req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'OPTIONS') {
      listener.onRejected?.('options_asterisk')
      answerOptionsAsterisk(res)
      return
    }
    res.shouldKeepAlive = false
    listener.onRejected?.('malformed')
    sendError(res, 400, `bad request (the request target * is only for OPTIONS, not ${req.method ?? ''})`)
  }

  function onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (isH2cUpgrade(req)) {
      replayWithoutUpgrade(server, req, socket, head)
      return
    }
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
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    listener.onRejected?.('connect')
    refuseConnect(socket)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const reason = onClientError(err, socket)
    if (reason !== undefined) listener.onRejected?.(reason)
  })
  return server
}

const URI_TOO_LONG: [number, string, RejectReason] = [414, 'URI Too Long', 'uri_too_long']

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
  const [status, text, why] = err.code === 'HPE_HEADER_OVERFLOW' && overflowedInRequestLine(err)
    ? URI_TOO_LONG
    : CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'malformed']
  const reason = status === 400 ? ` (${(err.code ?? 'malformed request').replace(/^HPE_/, '').toLowerCase()})` : ''
  const body = `${text.toLowerCase()}${reason}\n`
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  return why
}
