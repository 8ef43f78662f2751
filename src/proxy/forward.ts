/**
 * One proxied request: an undici dispatch handler that writes the upstream
 * response straight into the client's response. undici's low-level
 * `dispatch()` with a handler object is the cheapest way through undici (no
 * stream wrappers, no header objects); backpressure is honoured both ways:
 * undici pauses the upstream socket when the client cannot keep up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { clientResponseHeaders } from './headers.js'
import type { Upstream } from './upstreams.js'
import type { Decision } from '../routing/types.js'

/** undici's (non-deprecated, still supported) dispatch handler shape used by its core. */
export interface RawDispatchHandler {
  onConnect (abort: (err?: Error) => void): void
  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: unknown): void
  onError (err: Error): void
}

export type UpstreamErrorKind = 'connect' | 'timeout' | 'reset' | 'other'

/** Maps an undici/socket error to a kind (for metrics) and the status the client gets. */
export function classifyUpstreamError (err: Error): { kind: UpstreamErrorKind, status: number } {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { kind: 'timeout', status: 504 }
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'timeout', status: 504 }
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { kind: 'connect', status: 502 }
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { kind: 'reset', status: 502 }
    default:
      return { kind: 'other', status: 502 }
  }
}

/** What the exchange reports when it starts and ends (metrics, logs). */
export interface ExchangeListener {
  onExchangeStart (ex: Exchange): void
  onExchangeEnd (ex: Exchange, statusCode: number, error: Error | undefined): void
}

export class Exchange implements RawDispatchHandler {
  /** Status sent to the client; 0 until headers are written. */
  statusCode = 0
  /** The upstream's response head (with `extraHeaders`) reached the client. */
  headersForwarded = false
  /** The client went away before the response was complete (not an upstream failure). */
  clientClosed = false
  #abort: ((err?: Error) => void) | null = null
  #resume: (() => void) | null = null
  #done = false

  constructor (
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly decision: Decision,
    readonly upstream: Upstream,
    /** Extra response headers (flat list): sticky cookie, backend header. */
    readonly extraHeaders: string[] | undefined,
    readonly startTime: number,
    readonly listener: ExchangeListener
  ) {
    upstream.pending++
    res.once('close', this.#onClientClose)
    listener.onExchangeStart(this)
  }

  // An arrow property, so the listener is bound once per exchange.
  readonly #onClientClose = (): void => {
    if (!this.#done) {
      // The client went away first: stop the upstream request too.
      this.clientClosed = true
      const abort = this.#abort
      if (abort !== null) abort(new Error('client closed the connection'))
    }
  }

  readonly #onDrain = (): void => {
    const resume = this.#resume
    if (resume !== null) resume()
  }

  onConnect (abort: (err?: Error) => void): void {
    this.#abort = abort
    if (this.res.destroyed) {
      this.clientClosed = true
      abort(new Error('client closed the connection'))
    }
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true // 1xx informational: not forwarded
    this.#resume = resume
    this.statusCode = statusCode
    const out = clientResponseHeaders(headers, this.extraHeaders ?? [])
    this.res.writeHead(statusCode, statusText, out)
    this.headersForwarded = true
    return true
  }

  onData (chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.#onDrain)
    return false
  }

  onComplete (_trailers: unknown): void {
    this.res.end()
    this.#finish(undefined)
  }

  onError (err: Error): void {
    const res = this.res
    if (!res.headersSent && !res.destroyed) {
      const { status } = classifyUpstreamError(err)
      this.statusCode = status
      sendError(res, status, status === 504 ? 'upstream timed out' : 'upstream unavailable', this.decision.backend.name)
    } else {
      // Mid-body: the only honest signal left is to cut the client connection.
      res.destroy()
    }
    this.#finish(err)
  }

  #finish (err: Error | undefined): void {
    if (this.#done) return
    this.#done = true
    this.upstream.pending--
    this.listener.onExchangeEnd(this, this.statusCode, err)
  }
}

/** A short plain-text error from switchyard itself. */
export function sendError (res: ServerResponse, status: number, message: string, backend?: string): void {
  const body = `${message}${backend === undefined ? '' : ` (backend ${backend})`}\n`
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store'
  })
  res.end(body)
}
