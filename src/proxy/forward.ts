/**
 * One proxied request: an undici dispatch handler that writes the upstream
 * response straight into the client's response. undici's low-level
 * `dispatch()` with a handler object is the cheapest way through undici (no
 * stream wrappers, no header objects); backpressure is honoured both ways:
 * undici pauses the upstream socket when the client cannot keep up.
 *
 * The exchange also chooses where the request goes among healthy targets,
 * fails over to the backend's `fallback` while it has none, and retries on
 * another target when that is safe (see `#retryable`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { applyHeaderPlan, clientResponseHeaders } from './headers.js'
import type { Rejection } from './rejection.js'
import type { RequestInfo } from './request-info.js'
import { ExchangeRecord } from './exchange-record.js'
import { classifyUpstreamError, type FailureKind, type RetryReason } from './failure.js'
import { selectTarget, type BackendRuntime, type Target, type Upstream } from './upstreams.js'
import type { Backend, Decision } from '../routing/types.js'

/** undici's (non-deprecated, still supported) dispatch handler shape used by its core. */
export interface RawDispatchHandler {
  onConnect (abort: (err?: Error) => void): void
  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: unknown): void
  onError (err: Error): void
}

/** What the exchange reports when it starts and ends (metrics, logs). */
export interface ExchangeListener {
  onExchangeStart (decision: Decision): void
  /** Once per exchange, with what it was. */
  onExchangeEnd (record: ExchangeRecord): void
  /** An attempt on `target` (of backend `from`) failed and the request goes to another target; `reason` says why. */
  onRetry? (decision: Decision, from: Backend, target: string, reason: RetryReason): void
}

/**
 * Requests switchyard answers itself, without a backend: no route matched
 * (404), a request Node's parser or the proxy refused (400), a head over the
 * size or field-count limits (431), headers that came too slowly (408).
 */
export const REJECT_REASONS = ['no_route', 'malformed', 'headers_too_large', 'timeout'] as const
export type RejectReason = typeof REJECT_REASONS[number]
export const REJECT_CODES: Readonly<Record<RejectReason, number>> = { no_route: 404, malformed: 400, headers_too_large: 431, timeout: 408 }

/** Everything the proxy listener reports (metrics): exchanges, refused requests, WebSocket upgrades. */
export interface ProxyListener extends ExchangeListener {
  onRejected? (rejection: Rejection): void
  /** A WebSocket handshake was answered; `code` is what the client got: 101 when a tunnel opened. */
  onUpgrade? (decision: Decision, served: Backend, code: number): void
  /** A tunnel opened by a 101 answer closed. */
  onTunnelClosed? (decision: Decision, served: Backend): void
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** The signal used to abandon an upstream answer (502/503) that will be retried. */
const RETRY = Object.assign(new Error('retrying on another target'), { code: 'SY_RETRY' })
const CLIENT_GONE = Object.assign(new Error('client closed the connection'), { code: 'SY_CLIENT_GONE' })

export class Exchange implements RawDispatchHandler {
  /** Status sent to the client; 0 until headers are written. */
  #status = 0
  /** The backend and target now serving; differ from the decision after a failover. */
  #runtime: BackendRuntime
  #upstream: Upstream | undefined
  #retries = 0
  /** The upstream's response head (with `extraHeaders`) reached the client. */
  #headersForwarded = false
  /** The client went away before the response was complete (not an upstream failure). */
  #clientClosed = false
  #failure: FailureKind | undefined
  #headersTime = 0
  #bytesOut = 0
  #abort: ((err?: Error) => void) | null = null
  #resume: (() => void) | null = null
  #done = false
  #tried: Upstream[] | undefined
  /** The target whose 502/503 answer was abandoned for a retry, and the one chosen instead. */
  #failed: Upstream | undefined
  #next: Target | undefined
  #isRetry = false
  /** The backend `opts.headers` were made for (its header rules differ from its fallback's). */
  #headersFor: Backend
  /** Why the exchange failed: the upstream error's code, e.g. ECONNREFUSED. */
  #cause: string | undefined

  constructor (
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly decision: Decision,
    /** The config snapshot's backends (indexed like the table's), for failover. */
    readonly runtimes: readonly BackendRuntime[],
    readonly opts: Dispatcher.DispatchOptions,
    /** Extra response headers (flat list): sticky cookie, backend header. */
    readonly extraHeaders: string[] | undefined,
    readonly startTime: number,
    readonly listener: ExchangeListener,
    readonly info: RequestInfo,
    /** The upstream request headers before header rules, kept when the route has request rules (for a failover). */
    readonly baseHeaders?: readonly string[]
  ) {
    this.#runtime = runtimes[decision.backend.index] as BackendRuntime
    this.#headersFor = decision.backend
    // One shared listener function finds the exchange on the response: no closure per request.
    ;(res as ExchangeResponse)[kExchange] = this
    res.on('close', onResponseClose)
    listener.onExchangeStart(decision)
  }

  /** Sends the request; answers 503 when the backend and its fallbacks have no healthy target. */
  start (): void {
    if (!this.#select(this.#runtime)) {
      this.#fail('no_target', 503, 'no healthy target', this.decision.backend.name)
      this.#finish()
      return
    }
    this.#dispatch()
  }

  /** A target of `rt`, else of its fallback chain; false when there is none. */
  #select (rt: BackendRuntime): boolean {
    const up = rt.pick()
    if (up !== undefined) {
      this.#upstream = up
      return true
    }
    const target = selectTarget(this.runtimes, rt.backend.index, undefined)
    if (target === undefined) return false
    this.#runtime = target.runtime
    this.#upstream = target.upstream
    return true
  }

  #dispatch (): void {
    const up = this.#upstream as Upstream
    up.pending++
    if (!this.#isRetry) this.#runtime.countRequest(this.startTime)
    this.#abort = null
    const backend = this.#runtime.backend
    if (backend !== this.#headersFor && this.baseHeaders !== undefined) {
      // Failover: the fallback backend's header rules replace the decided one's.
      this.opts.headers = applyHeaderPlan(this.baseHeaders, this.decision.route.requestHeaders?.[backend.index])
      this.#headersFor = backend
    }
    up.pool.dispatch(this.opts, this)
  }

  /** Ends the current attempt's accounting. */
  #endAttempt (): void {
    const up = this.#upstream as Upstream
    up.pending--
  }

  /** The client's response closed; when that is before the end, the client went away: stop the upstream request too. */
  clientGone (): void {
    if (this.#done) return
    this.#clientClosed = true
    const abort = this.#abort
    if (abort !== null) abort(CLIENT_GONE)
  }

  /** Resumes the upstream once the client has taken what was buffered (created only under backpressure). */
  #onDrain: (() => void) | undefined

  /**
   * Whether a failed attempt may go to another target:
   * - a connection that failed before anything was sent: any method, as long
   *   as no request body byte has been read;
   * - a reset before the response, or a 502/503 answer: idempotent methods
   *   without a body (RFC 9110 §9.2.2);
   * and only within the route's attempts and the backend's retry budget, so
   * that retries cannot multiply the load on a failing backend.
   */
  #retryable (beforeSend: boolean): boolean {
    const policy = this.decision.route.retry
    if (policy === undefined || this.#retries >= policy.attempts || this.res.headersSent || this.res.destroyed) return false
    const hasBody = this.opts.body !== null && this.opts.body !== undefined
    const safe = beforeSend ? !hasBody || !this.req.readableDidRead : !hasBody && IDEMPOTENT.has(this.req.method ?? '')
    return safe && this.#runtime.takeRetry(performance.now(), policy.budgetPercent, policy.minPerSecond)
  }

  /** Finds another target (same backend first, then its fallbacks) for a retry; false when there is none. */
  #nextTarget (): boolean {
    const tried = this.#tried ??= []
    tried.push(this.#upstream as Upstream)
    this.#next = selectTarget(this.runtimes, this.#runtime.backend.index, tried)
    return this.#next !== undefined
  }

  /** Sends the request again, to the target `#nextTarget()` chose. */
  #retry (failed: Upstream, reason: RetryReason): void {
    this.listener.onRetry?.(this.decision, this.#runtime.backend, failed.origin, reason)
    const next = this.#next as Target
    this.#runtime = next.runtime
    this.#upstream = next.upstream
    this.#retries++
    this.#isRetry = true
    // Not from inside undici's callback: the failed connection is still being torn down.
    process.nextTick(() => { this.#dispatch() })
  }

  onConnect (abort: (err?: Error) => void): void {
    this.#abort = abort
    if (this.res.destroyed) {
      this.#clientClosed = true
      abort(CLIENT_GONE)
    }
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true // 1xx informational: not forwarded
    const up = this.#upstream as Upstream
    if (statusCode < 500) {
      up.consecutiveFailures = 0
    } else {
      up.recordFailure('status', this.#runtime.backend.outlier, this.#runtime.upstreams)
      if ((statusCode === 502 || statusCode === 503) && this.#retryable(false) && this.#nextTarget()) {
        // Abandon this answer; onError(RETRY) sends the request to the target just chosen.
        this.#failed = up
        this.#abort?.(RETRY)
        return false
      }
      this.#failure = 'status'
    }
    this.#headersTime = performance.now()
    this.#resume = resume
    this.#status = statusCode
    const out = clientResponseHeaders(headers, this.extraHeaders ?? [], this.decision.route, this.#runtime.backend)
    this.res.writeHead(statusCode, statusText, out)
    this.#headersForwarded = true
    return true
  }

  onData (chunk: Buffer): boolean {
    this.#bytesOut += chunk.length
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.#onDrain ??= () => { this.#resume?.() })
    return false
  }

  onComplete (_trailers: unknown): void {
    this.#endAttempt()
    this.res.end()
    this.#finish()
  }

  onError (err: Error): void {
    this.#endAttempt()
    if (err === CLIENT_GONE) {
      this.#failure = 'client_closed'
      this.#finish()
      return
    }
    if (err === RETRY) {
      this.#retry(this.#failed as Upstream, 'status')
      return
    }
    const { kind, status, beforeSend } = classifyUpstreamError(err)
    this.#cause = (err as NodeJS.ErrnoException).code ?? err.message
    const up = this.#upstream as Upstream
    if (kind !== 'other') up.recordFailure(kind, this.#runtime.backend.outlier, this.#runtime.upstreams)
    // Retry when nothing was sent yet, or on a reset before any response (idempotent requests only, see #retryable).
    if ((beforeSend || kind === 'reset') && kind !== 'other' && this.#retryable(beforeSend) && this.#nextTarget()) {
      this.#retry(up, kind)
      return
    }
    if (!this.res.headersSent && !this.res.destroyed) {
      this.#fail(kind, status, status === 504 ? 'upstream timed out' : 'upstream unavailable', this.#runtime.backend.name)
    } else {
      this.#failure = kind
      // Mid-body: the only honest signal left is to cut the client connection.
      this.res.destroy()
    }
    this.#finish()
  }

  /** Answers the client with switchyard's own error. */
  #fail (kind: FailureKind, status: number, message: string, backend: string): void {
    this.#failure = kind
    this.#status = status
    sendError(this.res, status, message, backend, this.info)
  }

  #finish (): void {
    if (this.#done) return
    this.#done = true
    const rt = this.#runtime
    this.listener.onExchangeEnd(new ExchangeRecord(
      this.decision, this.req.method ?? 'GET', rt.backend, this.#upstream?.origin, this.#status, this.#failure,
      this.#retries, this.#headersForwarded, this.#clientClosed, this.startTime, this.#headersTime, performance.now(), this.#bytesOut,
      this.info, this.#cause
    ))
  }
}

const kExchange = Symbol('switchyard.exchange')
type ExchangeResponse = ServerResponse & { [kExchange]?: Exchange }

function onResponseClose (this: ExchangeResponse): void {
  this[kExchange]?.clientGone()
}

/** A short plain-text error from switchyard itself, with the request's ID. */
export function sendError (res: ServerResponse, status: number, message: string, backend: string | undefined, info: RequestInfo): void {
  const body = `${message}${backend === undefined ? '' : ` (backend ${backend})`}\n`
  res.writeHead(status, [
    'content-type', 'text/plain; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store',
    info.idHeader, info.id
  ])
  res.end(body)
}
