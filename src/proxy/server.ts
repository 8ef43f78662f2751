/**
 * The data path: a plain node:http server whose request handler snapshots
 * the running config, calls decide(), and hands the request to the chosen
 * target's undici pool. Deliberately not fastify: the README's performance
 * section gives the numbers (fastify's per-request machinery alone costs
 * more than the whole routing decision). fastify serves the admin listener.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import type { Duplex, Readable } from 'node:stream'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { decide } from '../routing/decide.js'
import type { Decision, Entropy, ProxySettings, ServerSettings } from '../routing/types.js'
import type { ConfigStore } from './config-store.js'
import type { Socket } from 'node:net'
import { Exchange, sendError, type Downstream, type ProxyListener, type RejectReason } from './forward.js'
import { grpcCodeOfOwnAnswer, isGrpcContentType, sendGrpcError } from './grpc.js'
import { Http2Front } from './http2-front.js'
import { CertificateStore } from './tls-certificates.js'
import { GrpcStreams } from './stream-drain.js'
import { parseGrpcTimeout } from '../util/grpc-status.js'
import { applyHeaderPlan, clientAddress, socketAddress, stripPathPrefix, upstreamRequestHeaders } from './headers.js'
import { Rejection } from './rejection.js'
import { RequestIdSource, requestIdFor } from './request-id.js'
import { partialHead, RequestInfo } from './request-info.js'
import { NodeRequestView } from './request-view.js'
import type { RequestTracer } from './tracer.js'
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
  /** Tracing: `current` is the tracer while a config turns it on. */
  readonly tracing?: { readonly current: RequestTracer | undefined }
  /** Where request IDs come from (a per-process prefix and counter by default). */
  readonly requestIds?: RequestIdSource
}

const noopListener: ProxyListener = { onExchangeStart () {}, onExchangeEnd () {} }

/** The proxy listener: the HTTP/1.1 server that owns the port, its HTTP/2 side and its certificates. */
export interface ProxyServer {
  readonly server: Server
  /** HTTP/2 sessions (h2 by ALPN, h2c by preface); undefined when `listen.http2.enabled` is false. */
  readonly http2: Http2Front | undefined
  /** TLS certificates, reloaded when their files change; undefined in cleartext. */
  readonly certificates: CertificateStore | undefined
}

/** The time allowed for the response head: the route's timeout, capped by the deadline a gRPC client sent. */
function headTimeout (routeMs: number, grpcTimeout: string | undefined): number {
  const grpcMs = parseGrpcTimeout(grpcTimeout)
  if (grpcMs === undefined) return routeMs
  return routeMs === 0 ? Math.max(1, grpcMs) : Math.max(1, Math.min(routeMs, grpcMs))
}

function hasBody (req: IncomingMessage): boolean {
  const h = req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const len = h['content-length']
  return len !== undefined && len !== '0'
}

/** Response headers switchyard adds here: the request ID and a new user's sticky cookie (the backend header is added by the exchange). */
function extraHeaders (d: Decision, info: RequestInfo): string[] {
  const out = [info.idHeader, info.id]
  if (d.setStickyId !== undefined) {
    const sticky = d.route.sticky
    if (sticky !== undefined) out.push('set-cookie', `${sticky.name}=${d.setStickyId}${sticky.cookieAttributes}`)
  }
  return out
}

/** What goes upstream for a routed request: the path (without a stripped prefix) and the headers before and after header rules. */
function upstreamRequest (req: IncomingMessage, view: NodeRequestView, decision: Decision, info: RequestInfo, proxy: ProxySettings, tracer: RequestTracer | undefined): { path: string, base: string[], headers: string[] } {
  const route = decision.route
  const strip = route.stripPrefix
  const stripped = strip === undefined ? undefined : stripPathPrefix(view.url, view.path, strip)
  const secure = (req.socket as TLSSocket).encrypted === true
  const base = upstreamRequestHeaders(req.headers, info.client, proxy, info.id, stripped === undefined ? undefined : strip, secure)
  if (tracer !== undefined) tracer.start(info, req, decision, base)
  const plan = route.requestHeaders?.[decision.backend.index]
  return { path: stripped ?? view.url, base, headers: plan === undefined ? base : applyHeaderPlan(base, plan) }
}

export function createProxyServer (opts: ProxyServerOptions): ProxyServer {
  const { store, logger, settings } = opts
  const entropy = opts.entropy ?? defaultEntropy
  const listener = opts.listener ?? noopListener
  const draining = opts.draining ?? (() => false)
  // Node keeps at most this many header fields; one more than allowed tells us the request has too many.
  const maxHeaderFields = settings.maxHeaders
  const ids = opts.requestIds ?? new RequestIdSource()
  const tracing = opts.tracing
  const grpcStreams = new GrpcStreams(settings.http2.streamDrainGraceMs)
  store.on('swap', next => grpcStreams.swapped(next.table))

  function requestInfo (req: IncomingMessage, start: number, proxy: ProxySettings): RequestInfo {
    const id = requestIdFor(req.headers[proxy.requestIdHeader], proxy.trustRequestId, ids)
    return new RequestInfo(id, proxy.requestIdHeader, start, req.socket, clientAddress(req), req)
  }

  /** Answers a request switchyard refuses itself (in gRPC form to a gRPC client) and tells the listeners. */
  function reject (res: ServerResponse, info: RequestInfo, reason: RejectReason, status: number, message: string, downstream: Downstream = 'http1'): void {
    if (downstream === 'grpc') sendGrpcError(res as unknown as Http2ServerResponse, grpcCodeOfOwnAnswer(status), message, info.idHeader, info.id)
    else sendError(res, status, message, undefined, info)
    listener.onRejected?.(new Rejection(reason, status, message, info))
  }

  function onRequest (req: IncomingMessage, res: ServerResponse): void {
    handle(req, res, 'http1', hasBody(req))
  }

  /**
   * An HTTP/2 stream, through Node's compatibility API: its request and
   * response objects have the members the exchange uses (headers, url,
   * method, socket, the body stream; writeHead, write, end, 'drain',
   * 'close'), so the one path serves both protocols. The differences are
   * handled where they matter: the `:authority` pseudo-header is the Host,
   * a body is announced by the absence of END_STREAM (gRPC sends no
   * Content-Length), responses carry no reason phrase, and trailers travel.
   */
  function onHttp2Request (req: Http2ServerRequest, res: Http2ServerResponse): void {
    const h = req.headers
    if (h.host === undefined) {
      const authority = h[':authority']
      if (authority !== undefined) h.host = authority
    }
    const downstream: Downstream = isGrpcContentType(h['content-type']) ? 'grpc' : 'h2'
    handle(req as unknown as IncomingMessage, res as unknown as ServerResponse, downstream, !req.stream.endAfterHeaders)
  }

  function handle (req: IncomingMessage, res: ServerResponse, downstream: Downstream, withBody: boolean): void {
    const start = performance.now()
    const active = store.current
    const proxy = active.table.proxy
    const info = requestInfo(req, start, proxy)
    // Refused requests also lose their connection, like those Node's parser refuses.
    if (downstream === 'http1' && req.rawHeaders.length > 2 * maxHeaderFields) {
      res.shouldKeepAlive = false
      reject(res, info, 'headers_too_large', 431, `too many header fields (limit ${maxHeaderFields})`)
      return
    }
    if (req.headers.host === undefined && req.httpVersionMinor === 1) {
      res.shouldKeepAlive = false
      reject(res, info, 'malformed', 400, 'bad request (HTTP/1.1 needs a Host header)')
      return
    }
    if (req.url === '*') {
      answerAsteriskForm(req, res, info)
      return
    }
    if (draining() && downstream === 'http1') res.shouldKeepAlive = false
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      reject(res, info, 'no_route', 404, 'no route matches this request', downstream)
      return
    }
    const route = decision.route
    let body: Readable | null = withBody ? req : null
    if (body !== null && route.maxBodyBytes !== undefined) {
      if (declaredTooLarge(req, route.maxBodyBytes)) {
        // Refused before a byte of it is read; the connection closes rather than read it all.
        res.shouldKeepAlive = false
        reject(res, info, 'body_too_large', 413, `request body larger than ${route.maxBodyBytes} bytes (route ${route.name})`, downstream)
        return
      }
      if (req.headers['content-length'] === undefined) body = limitedBody(req, route.maxBodyBytes)
    }
    const up = upstreamRequest(req, view, decision, info, proxy, tracing?.current)
    const dispatch = {
      path: up.path,
      method: view.method as 'GET',
      headers: up.headers,
      body,
      // The route's timeout runs in the exchange, from the request's arrival.
      headersTimeout: 0,
      bodyTimeout: route.idleTimeoutMs
    }
    const base = route.requestHeaders === undefined ? undefined : up.base
    const timeout = downstream === 'grpc' ? headTimeout(route.timeoutMs, req.headers['grpc-timeout'] as string | undefined) : route.timeoutMs
    const exchange = new Exchange(req, res, decision, active.runtimes, dispatch, extraHeaders(decision, info), proxy.backendHeader, start, listener, settings.bodyTimeoutMs, info, base, downstream, timeout)
    if (downstream === 'grpc') grpcStreams.add(exchange)
    exchange.start()
  }

  /** `OPTIONS *` is a ping of switchyard itself; any other method has no business with `*`. */
  function answerAsteriskForm (req: IncomingMessage, res: ServerResponse, info: RequestInfo): void {
    if (req.method === 'OPTIONS') {
      answerOptionsAsterisk(res)
      listener.onRejected?.(new Rejection('options_asterisk', 200, 'OPTIONS * answered by switchyard', info))
      return
    }
    res.shouldKeepAlive = false
    reject(res, info, 'malformed', 400, `bad request (the request target * is only for OPTIONS, not ${req.method ?? ''})`)
  }

  function onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (isH2cUpgrade(req)) {
      replayWithoutUpgrade(server, req, socket, head)
      return
    }
    const active = store.current
    const proxy = active.table.proxy
    const info = requestInfo(req, performance.now(), proxy)
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      listener.onRejected?.(new Rejection('no_route', 404, 'no route matches this request', info))
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n${info.idHeader}: ${info.id}\r\nConnection: close\r\n\r\n`)
      return
    }
    const target = selectTarget(active.runtimes, decision.backend.index, undefined)
    if (target === undefined) {
      listener.onUpgrade?.(decision, decision.backend, 503)
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n${info.idHeader}: ${info.id}\r\nConnection: close\r\n\r\n`)
      return
    }
    const served = target.runtime.backend
    // Headers for the backend that takes the connection (its fallback's rules after a failover).
    const up = upstreamRequest(req, view, decision, info, proxy, undefined)
    const headers = served === decision.backend ? up.headers : applyHeaderPlan(up.base, decision.route.requestHeaders?.[served.index])
    forwardUpgrade({ req, socket, head, path: up.path, headers, info, decision, served, upstream: target.upstream, logger, tunnels: opts.tunnels, listener })
  }

  const certificates = settings.tls === undefined ? undefined : new CertificateStore(settings.tls)
  const http1Options = {
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
  }
  const server: Server = certificates === undefined
    ? createServer(http1Options, onRequest)
    : createHttpsServer({
      ...http1Options,
      ...certificates.defaultPair,
      SNICallback: certificates.sniCallback,
      ALPNProtocols: settings.http2.enabled ? ['h2', 'http/1.1'] : ['http/1.1']
    }, onRequest)
  if (certificates !== undefined) {
    // Connections without SNI get the default certificate: it follows the files too.
    certificates.on('reloaded', () => (server as unknown as { setSecureContext (o: object): void }).setSecureContext(certificates.defaultPair))
    certificates.on('failed', err => logger.warn({ err }, 'TLS certificate files changed but cannot be loaded; the certificates in use stay'))
    certificates.on('reloaded', () => logger.info('TLS certificates reloaded'))
  }
  server.maxHeadersCount = maxHeaderFields + 1
  server.on('upgrade', onUpgrade)
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    refuseConnect(socket)
    const info = requestInfo(req, performance.now(), store.current.table.proxy)
    listener.onRejected?.(new Rejection('connect', 405, 'CONNECT is not supported (a reverse proxy, not a forward proxy)', info))
  })
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    const idHeader = store.loaded ? store.current.table.proxy.requestIdHeader : 'x-request-id'
    const info = new RequestInfo(ids.next(), idHeader, performance.now(), socket as Socket, socketAddress(socket as Socket), undefined, partialHead(err.rawPacket))
    const rejection = onClientError(err, socket, info)
    if (rejection !== undefined) listener.onRejected?.(rejection)
  })
  let http2: Http2Front | undefined
  if (settings.http2.enabled) {
    http2 = new Http2Front(settings, onHttp2Request)
    http2.attach(server, certificates !== undefined, settings.headersTimeoutMs)
  }
  return { server, http2, certificates }
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
 * head, slow-loris timeout): answer it clearly, with a request ID, and close
 * that connection; nothing reaches an upstream and the process carries on.
 * Returns the rejection, or undefined when the client had already gone and
 * got no answer.
 */
function onClientError (err: NodeJS.ErrnoException, socket: Duplex, info: RequestInfo): Rejection | undefined {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return undefined
  }
  const [status, text, why] = err.code === 'HPE_HEADER_OVERFLOW' && overflowedInRequestLine(err)
    ? URI_TOO_LONG
    : CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'malformed']
  const reason = status === 400 ? ` (${(err.code ?? 'malformed request').replace(/^HPE_/, '').toLowerCase()})` : ''
  const message = `${text.toLowerCase()}${reason}`
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\n${info.idHeader}: ${info.id}\r\nConnection: close\r\n\r\n${message}\n`)
  return new Rejection(why, status, message, info, err.code)
}
