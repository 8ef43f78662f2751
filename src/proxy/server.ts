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
import type { Decision, Entropy } from '../routing/types.js'
import type { ConfigStore } from '../runtime/config-store.js'
import { Exchange, sendError, type ExchangeListener } from './forward.js'
import { clientAddress, upstreamRequestHeaders } from './headers.js'
import { NodeRequestView } from './request-view.js'
import { forwardUpgrade } from './websocket.js'

export const defaultEntropy: Entropy = {
  random: Math.random,
  newId: randomUUID
}

export interface ProxyServerOptions {
  readonly store: ConfigStore
  readonly logger: Logger
  readonly entropy?: Entropy
  readonly listener?: ExchangeListener
  /** Milliseconds; see README "Listener settings". */
  readonly keepAliveTimeout?: number
  readonly headersTimeout?: number
  readonly maxHeaderSize?: number
}

const noopListener: ExchangeListener = { onExchangeStart () {}, onExchangeEnd () {} }

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
  const { store, logger } = opts
  const entropy = opts.entropy ?? defaultEntropy
  const listener = opts.listener ?? noopListener

  function onRequest (req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now()
    const active = store.current
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      sendError(res, 404, 'no route matches this request')
      return
    }
    const upstream = (active.runtimes[decision.backend.index])!.pick()
    const proxy = active.table.proxy
    const exchange = new Exchange(req, res, decision, upstream, extraHeaders(decision, proxy.backendHeader), start, listener)
    const timeout = decision.route.timeoutMs
    upstream.pool.dispatch({
      path: view.url,
      method: view.method as 'GET',
      headers: upstreamRequestHeaders(req.headers, clientAddress(req), proxy.trustForwarded),
      body: hasBody(req) ? req : null,
      headersTimeout: timeout,
      bodyTimeout: timeout
    }, exchange)
  }

  function onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const active = store.current
    const view = new NodeRequestView(req)
    const decision = decide(active.table, view, entropy)
    if (decision === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const upstream = (active.runtimes[decision.backend.index])!.pick()
    forwardUpgrade({ req, socket, head, view, decision, upstream, trustForwarded: active.table.proxy.trustForwarded, logger })
  }

  const server = createServer({
    keepAliveTimeout: opts.keepAliveTimeout ?? 72_000,
    headersTimeout: opts.headersTimeout ?? 30_000,
    // Whole-request timeout off: long uploads and streams are bounded by the
    // header timeout and the route's idle timeout instead.
    requestTimeout: 0,
    maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024
  }, onRequest)
  server.on('upgrade', onUpgrade)
  return server
}
