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
import type { Http2ServerResponse } from 'node:http2'
import type { Dispatcher } from 'undici'
import { encodeGrpcMessage, flatToObject, flatValue, grpcCodeOfOwnAnswer, respondTrailersOnly, sendGrpcError, trailerObject, type UpstreamTrailers } from './grpc.js'
import { GRPC_CANCELLED, GRPC_UNAVAILABLE, GRPC_UNKNOWN, grpcCodeOfHttpStatus, parseGrpcStatus } from '../util/grpc-status.js'
import { applyHeaderPlan, clientResponseHeaders } from './headers.js'
import type { Rejection } from './rejection.js'
import type { RequestInfo } from './request-info.js'
import { ExchangeRecord } from './exchange-record.js'
import { BODY_TOO_LARGE } from './body-limit.js'
import { Deadline, DeadlineList } from './deadlines.js'
import { classifyUpstreamError, ROUTE_TIMEOUT, type FailureKind, type RetryReason } from './failure.js'
import { selectTarget, type BackendRuntime, type Target, type Upstream, type Waiter } from './upstreams.js'
import type { Backend, Decision } from '../routing/types.js'
import { formatDuration } from '../util/duration.js'

/** undici's (non-deprecated, still supported) dispatch handler shape used by its core. */
export interface RawDispatchHandler {
  onConnect (abort: (err?: Error) => void): void
  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: UpstreamTrailers): void
  onError (err: Error): void
}

/**
 * How the client spoke: HTTP/1.1, HTTP/2, or gRPC (over HTTP/2). The
 * response objects differ a little: HTTP/2 has no reason phrase and no
 * connection headers, carries trailers, and gRPC wants its errors as
 * gRPC statuses.
 */
export type Downstream = 'http1' | 'h2' | 'grpc'

/** `grpcStatus` of an exchange that is not gRPC. */
export const NOT_GRPC = -1

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
 * size or field-count limits (431), headers that came too slowly (408), a
 * declared body over the route's maxBodyBytes (413), a request line over the
 * head limit (414), CONNECT (405), `OPTIONS *` (200: a ping of switchyard).
 */
export const REJECT_REASONS = ['no_route', 'malformed', 'headers_too_large', 'timeout', 'body_too_large', 'uri_too_long', 'connect', 'options_asterisk'] as const
export type RejectReason = typeof REJECT_REASONS[number]
export const REJECT_CODES: Readonly<Record<RejectReason, number>> = {
  no_route: 404, malformed: 400, headers_too_large: 431, timeout: 408, body_too_large: 413, uri_too_long: 414, connect: 405, options_asterisk: 200
}

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
/** Ends an attempt whose client already has its answer (a timeout, a slow body). */
const ABANDONED = Object.assign(new Error('exchange already answered'), { code: 'SY_ABANDONED' })

/** Where gRPC exchanges in flight are kept, so that a weight change can drain them (see stream-drain.ts). */
export interface ExchangeSet {
  delete (exchange: Exchange): void
}

export class Exchange extends Deadline implements RawDispatchHandler, Waiter {
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
  /** When the request started waiting for a connection; 0 when it is not waiting. */
  #queuedAt = 0
  /** The queue's own timeout, while waiting, when it ends before the route's (the exchange itself is the route's deadline). */
  #queueWatch: QueueWatch | undefined
  /** Only while a request body is arriving: expires when the client has sent nothing for `bodyTimeoutMs`. */
  #bodyWatch: BodyWatch | undefined
  /** The backend `opts.headers` were made for (its header rules differ from its fallback's). */
  #headersFor: Backend
  /** Why the exchange failed: the upstream error's code (e.g. ECONNREFUSED), or what switchyard told the client. */
  #cause: string | undefined
  /** gRPC: the status the client got (from the upstream's trailers or Trailers-Only head, or switchyard's own); -1 until known. */
  #grpcStatus = NOT_GRPC
  /** gRPC: a response head carrying grpc-status, held back until it is known whether a body follows (Trailers-Only). */
  #heldHead: string[] | undefined
  /** gRPC: the set this exchange is in while in flight (set by the server). */
  streams: ExchangeSet | undefined
  #drainTimer: NodeJS.Timeout | undefined

  constructor (
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly decision: Decision,
    /** The config snapshot's backends (indexed like the table's), for failover. */
    readonly runtimes: readonly BackendRuntime[],
    readonly opts: Dispatcher.DispatchOptions,
    /** Extra response headers (flat list): the sticky cookie. */
    readonly extraHeaders: string[] | undefined,
    /** Response header naming the backend that served (lowercased), or undefined. */
    readonly backendHeader: string | undefined,
    readonly startTime: number,
    readonly listener: ExchangeListener,
    /** Longest silence allowed within the request body; 0: none. */
    readonly bodyTimeoutMs: number,
    readonly info: RequestInfo,
    /** The upstream request headers before header rules, kept when the route has request rules (for a failover); undefined otherwise. */
    readonly baseHeaders: readonly string[] | undefined,
    readonly downstream: Downstream,
    /** The time allowed for the response head: the route's timeout, capped by a gRPC client's `grpc-timeout`; 0: none. */
    readonly timeoutMs: number
  ) {
    super()
    this.#runtime = runtimes[decision.backend.index] as BackendRuntime
    this.#headersFor = decision.backend
    // One shared listener function finds the exchange on the response: no closure per request.
    ;(res as ExchangeResponse)[kExchange] = this
    res.on('close', onResponseClose)
    listener.onExchangeStart(decision)
  }

  /** Sends the request; answers 503 when the backend and its fallbacks have no healthy target. */
  start (): void {
    // The route's timeout runs from the request's arrival, until the response head.
    const timeout = this.timeoutMs
    if (timeout > 0) DeadlineList.of(timeout).add(this, this.startTime)
    if (this.bodyTimeoutMs > 0 && this.opts.body !== null && !this.req.complete) {
      const watch = this.#bodyWatch = new BodyWatch(this, this.req.socket.bytesRead)
      DeadlineList.of(this.bodyTimeoutMs).add(watch, this.startTime)
    }
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
    // undici reads `servername` from the dispatch options (its typings omit it).
    if (up.servername !== undefined) (this.opts as Dispatcher.DispatchOptions & { servername?: string }).servername = up.servername
    if (up.tryAcquire()) up.pool.dispatch(this.opts, this)
    else this.#wait(up)
  }

  /** Every connection of the target is busy: wait for one, within the backend's limits. */
  #wait (up: Upstream): void {
    const backend = this.#runtime.backend
    if (up.waiting.length >= backend.maxPending) {
      up.pending--
      this.#fail('queue_full', 503, `upstream queue full: ${up.capacityText} busy and ${backend.maxPending} requests waiting (maxPending ${backend.maxPending}, target ${up.origin})`, backend.name)
      this.#finish()
      return
    }
    up.waiting.push(this)
    const now = performance.now()
    this.#queuedAt = now
    const queueTimeout = backend.queueTimeoutMs
    if (queueTimeout > 0 && (this.deadlineList === undefined || now + queueTimeout < this.deadlineAt)) {
      DeadlineList.of(queueTimeout).add(this.#queueWatch ??= new QueueWatch(this), now)
    }
  }

  /** The target has a connection for this request (Waiter). */
  connectionFree (up: Upstream): void {
    if (this.#done) {
      up.releaseSlot()
      return
    }
    this.#queuedAt = 0
    this.#queueWatch?.cancelDeadline()
    up.pool.dispatch(this.opts, this)
  }

  /** The request stops waiting for a connection without having had one. */
  #leaveQueue (): void {
    const up = this.#upstream as Upstream
    up.leaveQueue(this)
    up.pending--
    this.#queuedAt = 0
    this.#queueWatch?.cancelDeadline()
  }

  /** Ends the current attempt's accounting: its connection is free again. */
  #endAttempt (): void {
    const up = this.#upstream as Upstream
    up.pending--
    up.releaseSlot()
  }

  /** The client's response closed; when that is before the end, the client went away: stop the upstream request too. */
  clientGone (): void {
    if (this.#done) return
    this.#clientClosed = true
    if (this.#queuedAt !== 0) {
      this.#leaveQueue()
      this.#failure = 'client_closed'
      this.#finish()
      return
    }
    const abort = this.#abort
    if (abort !== null) abort(CLIENT_GONE)
  }

  /** The route's timeout passed (Deadline). */
  expire (): void {
    this.timedOut(false)
  }

  /**
   * The route's (or the queue's) time is up before the response head came:
   * 504. A request still waiting for a connection leaves the queue; one on
   * the way upstream is aborted (counted as a timeout of that target).
   */
  timedOut (inQueue: boolean): void {
    if (this.#done || this.#status !== 0) return
    const backend = this.#runtime.backend
    if (this.#queuedAt !== 0) {
      const limit = inQueue ? `queueTimeout ${formatDuration(backend.queueTimeoutMs)}` : `route timeout ${formatDuration(this.timeoutMs)}`
      const up = this.#upstream as Upstream
      this.#leaveQueue()
      this.#fail('queue_timeout', 504, `upstream busy: no connection free within the ${limit} (${up.capacityText}, target ${up.origin})`, backend.name)
      this.#finish()
      return
    }
    const abort = this.#abort
    if (abort !== null) {
      abort(ROUTE_TIMEOUT) // onError answers
      return
    }
    // Still connecting: answer now; onConnect ends the attempt when it gets there.
    this.#fail('timeout', 504, 'upstream timed out', backend.name)
    this.#finish()
  }

  /**
   * The body timer fired: unless the client sent something since, or the
   * body is waiting on switchyard (its buffer is full because the upstream or
   * the queue is slower than the client), the client stalled: 408, close.
   */
  bodyIdle (watch: BodyWatch): void {
    const req = this.req
    if (this.#done || req.complete) return
    const read = req.socket.bytesRead
    if (read !== watch.bytesRead || req.readableLength >= req.readableHighWaterMark) {
      watch.bytesRead = read
      DeadlineList.of(this.bodyTimeoutMs).add(watch, performance.now())
      return
    }
    if (this.#queuedAt !== 0) this.#leaveQueue()
    if (this.res.headersSent) {
      this.#failure = 'client_timeout'
      this.res.destroy()
    } else {
      this.#fail('client_timeout', 408, `request body timed out: nothing received for ${formatDuration(this.bodyTimeoutMs)}`)
    }
    this.#finish()
    this.#abort?.(ABANDONED)
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
    process.nextTick(() => { if (!this.#done) this.#dispatch() })
  }

  onConnect (abort: (err?: Error) => void): void {
    if (this.#done) {
      abort(ABANDONED)
      return
    }
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
    this.cancelDeadline()
    this.#headersTime = performance.now()
    this.#resume = resume
    this.#status = statusCode
    const out = clientResponseHeaders(headers, this.extraHeaders ?? [], this.decision.route, this.#runtime.backend)
    // The backend that served: after a failover, the fallback, not the one decided.
    if (this.backendHeader !== undefined) out.push(this.backendHeader, this.#runtime.backend.name)
    if (this.downstream === 'http1') {
      this.res.writeHead(statusCode, statusText, out)
    } else if (this.downstream === 'grpc' && flatValue(out, 'grpc-status') !== undefined) {
      // Trailers-Only, most likely: sent as one frame by onComplete, unless a body follows.
      this.#grpcStatus = parseGrpcStatus(flatValue(out, 'grpc-status'))
      this.#heldHead = out
    } else {
      // HTTP/2 has no reason phrase (Node warns when given one).
      this.res.writeHead(statusCode, out)
    }
    this.#headersForwarded = true
    return true
  }

  /** Sends a held gRPC head as an ordinary head: a body came after all. */
  #releaseHead (): void {
    const head = this.#heldHead
    if (head === undefined) return
    this.#heldHead = undefined
    this.res.writeHead(this.#status, head)
  }

  onData (chunk: Buffer): boolean {
    if (this.#heldHead !== undefined) this.#releaseHead()
    this.#bytesOut += chunk.length
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.#onDrain ??= () => { this.#resume?.() })
    return false
  }

  onComplete (trailers: UpstreamTrailers): void {
    this.#endAttempt()
    if (this.downstream !== 'http1') {
      const head = this.#heldHead
      if (head !== undefined) {
        this.#heldHead = undefined
        respondTrailersOnly(this.res as unknown as Http2ServerResponse, flatToObject(head))
        this.#finish()
        return
      }
      // HTTP/2 carries trailers (gRPC's status is there); HTTP/1.1 clients get none, as before.
      const t = trailerObject(trailers)
      if (t !== undefined) {
        if (this.downstream === 'grpc' && t['grpc-status'] !== undefined) this.#grpcStatus = parseGrpcStatus(t['grpc-status'])
        ;(this.res as unknown as Http2ServerResponse).addTrailers(t)
      }
    }
    this.res.end()
    this.#finish()
  }

  onError (err: Error): void {
    this.#endAttempt()
    const { kind, status, beforeSend } = classifyUpstreamError(err)
    const up = this.#upstream as Upstream
    if (kind !== 'other') up.recordFailure(kind, this.#runtime.backend.outlier, this.#runtime.upstreams)
    // The client already has its answer (or is gone): nothing more to say.
    if (this.#done) return
    if (err === CLIENT_GONE) {
      this.#failure = 'client_closed'
      this.#finish()
      return
    }
    if (err === RETRY) {
      this.#retry(this.#failed as Upstream, 'status')
      return
    }
    if (err === BODY_TOO_LARGE) {
      this.#tooLarge()
      return
    }
    // Retry when nothing was sent yet, or on a reset before any response (idempotent requests only, see #retryable).
    if ((beforeSend || kind === 'reset') && kind !== 'other' && this.#retryable(beforeSend) && this.#nextTarget()) {
      this.#retry(up, kind)
      return
    }
    this.#cause = (err as NodeJS.ErrnoException).code ?? err.message
    if (this.#heldHead !== undefined) this.#releaseHead()
    if (!this.res.headersSent && !this.res.destroyed) {
      this.#fail(kind, status, status === 504 ? 'upstream timed out' : 'upstream unavailable', this.#runtime.backend.name)
    } else if (this.downstream === 'grpc' && !this.res.destroyed) {
      // Mid-stream: a gRPC client can still be told why, in the trailers.
      this.#failure = kind
      this.#grpcStatus = GRPC_UNAVAILABLE
      ;(this.res as unknown as Http2ServerResponse).addTrailers({ 'grpc-status': String(GRPC_UNAVAILABLE), 'grpc-message': encodeGrpcMessage(`upstream ${kind} (backend ${this.#runtime.backend.name})`) })
      this.res.end()
    } else {
      this.#failure = kind
      // Mid-body: the only honest signal left is to cut the client connection.
      this.res.destroy()
    }
    this.#finish()
  }

  /** A streamed (chunked) body went over the route's limit: 413, and the rest of it is not read (the connection closes). */
  #tooLarge (): void {
    const max = this.decision.route.maxBodyBytes ?? 0
    if (!this.res.headersSent && !this.res.destroyed) {
      this.res.shouldKeepAlive = false
      this.#fail('body_too_large', 413, `request body larger than ${max} bytes`)
    } else {
      this.#failure = 'body_too_large'
      this.res.destroy()
    }
    this.#finish()
  }

  /** Answers the client with switchyard's own error. */
  #fail (kind: FailureKind, status: number, message: string, backend?: string): void {
    this.#failure = kind
    this.#status = status
    // A body still arriving is not read on: close the connection after the answer.
    if (this.opts.body !== null && !this.req.complete) this.res.shouldKeepAlive = false
    this.#cause ??= message
    if (this.downstream === 'grpc') {
      // The client gets a gRPC status (HTTP 200), as gRPC clients expect.
      this.#grpcStatus = grpcCodeOfOwnAnswer(status)
      this.#status = 200
      sendGrpcError(this.res as unknown as Http2ServerResponse, this.#grpcStatus, `${message}${backend === undefined ? '' : ` (backend ${backend})`}`, this.info.idHeader, this.info.id)
      return
    }
    sendError(this.res, status, message, backend, this.info)
  }

  /** The backend now serving (its fallback after a failover). */
  get servedBackend (): Backend {
    return this.#runtime.backend
  }

  /**
   * The served backend lost its weight: unless the call ends first, end it
   * after `graceMs` with UNAVAILABLE (the client calls again and is routed
   * by the new weights) and stop the upstream side.
   */
  drainAfter (graceMs: number): void {
    if (this.#done || this.#drainTimer !== undefined) return
    this.#drainTimer = setTimeout(() => this.#drain(), graceMs)
    this.#drainTimer.unref()
  }

  #drain (): void {
    this.#drainTimer = undefined
    if (this.#done) return
    const backend = this.#runtime.backend.name
    const message = `stream drained: backend ${backend} no longer takes this traffic; call again`
    this.#failure = 'drained'
    this.#grpcStatus = GRPC_UNAVAILABLE
    if (this.#heldHead !== undefined) this.#releaseHead()
    const res = this.res as unknown as Http2ServerResponse
    if (!res.headersSent) {
      this.#status = 200
      sendGrpcError(res, GRPC_UNAVAILABLE, message, this.info.idHeader, this.info.id)
    } else {
      res.addTrailers({ 'grpc-status': String(GRPC_UNAVAILABLE), 'grpc-message': encodeGrpcMessage(message) })
      res.end()
    }
    this.#finish()
    this.#abort?.(ABANDONED)
  }

  /** The gRPC status the client got, when the exchange is gRPC; NOT_GRPC otherwise. */
  #finalGrpcStatus (): number {
    if (this.downstream !== 'grpc') return NOT_GRPC
    if (this.#grpcStatus !== NOT_GRPC) return this.#grpcStatus
    if (this.#clientClosed) return GRPC_CANCELLED
    if (this.#status !== 200) return grpcCodeOfHttpStatus(this.#status)
    // A 200 without any grpc-status: the client reports it as an error too.
    return this.#failure === undefined ? GRPC_UNKNOWN : GRPC_UNAVAILABLE
  }

  #finish (): void {
    if (this.#done) return
    this.#done = true
    this.cancelDeadline()
    if (this.streams !== undefined) {
      this.streams.delete(this)
      if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer)
    }
    this.#bodyWatch?.cancelDeadline()
    this.#queueWatch?.cancelDeadline()
    const rt = this.#runtime
    this.listener.onExchangeEnd(new ExchangeRecord(
      this.decision, this.req.method ?? 'GET', rt.backend, this.#upstream?.origin, this.#status, this.#failure,
      this.#retries, this.#headersForwarded, this.#clientClosed, this.startTime, this.#headersTime, performance.now(), this.#bytesOut,
      this.info, this.#cause, this.#finalGrpcStatus()
    ))
  }
}

/** The queue's timeout of a waiting exchange (allocated only when one waits). */
class QueueWatch extends Deadline {
  constructor (readonly exchange: Exchange) {
    super()
  }

  expire (): void {
    this.exchange.timedOut(true)
  }
}

/** The request body's idle timeout (allocated only for requests with a body). */
class BodyWatch extends Deadline {
  constructor (readonly exchange: Exchange, /** The client socket's bytesRead when last set. */ public bytesRead: number) {
    super()
  }

  expire (): void {
    this.exchange.bodyIdle(this)
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
