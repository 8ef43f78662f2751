/**
 * The upstream pool of an `h2c` or `h2` backend target: an undici
 * Dispatcher over node:http2, so the exchange dispatches to it exactly as
 * to an undici Pool (same handler, same errors, same `request()` for the
 * health check), and every call multiplexes on shared connections.
 *
 * Why not undici's own HTTP/2: undici 7 sends a request with a body only
 * on a connection with nothing else in flight (nodejs/undici #5390, fixed
 * in undici 8.5, which needs a newer Node than ours), so a proxy, whose
 * every POST and every gRPC call has a streamed body, opened one connection
 * per call in flight. It also fails requests in flight on a graceful
 * GOAWAY (#5089).
 *
 * Pooling, as Envoy's HTTP/2 connection pool does it: a new stream goes on
 * the first connection that is not draining and has room under the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS (and our own cap); a new connection opens
 * only when none has room, up to `connections`. A GOAWAY takes a connection
 * out of the rotation at once; its streams below the GOAWAY's last stream
 * ID finish there. An idle connection closes after `keepAliveTimeoutMs`.
 *
 * What the pool carries at once (`capacity`, reported to the target's
 * Upstream through `onCapacity`) is what the peer allows, so that requests
 * over it wait in switchyard's queue, under `maxPending` and `queueTimeout`,
 * rather than here: the pool's own queue only holds requests within that
 * capacity while their connection is being opened.
 */
import { connect, type ClientHttp2Session, type Settings, type SecureClientSessionOptions } from 'node:http2'
import { Dispatcher } from 'undici'
import type { RawDispatchHandler } from './forward.js'
import { H2Request, H2UpstreamError, type StreamHost, type Target } from './h2-request.js'

export interface H2PoolOptions {
  /** Connections open at most (draining ones aside); when all are full, more requests wait in the Upstream's queue (see `capacity`). */
  readonly connections: number
  /** Streams per connection at most, whatever the peer allows. */
  readonly streamsPerConnection: number
  readonly connectTimeoutMs: number
  /** An idle connection closes after this long. */
  readonly keepAliveTimeoutMs: number
  /** https targets: the CA bundle, certificate check and TLS server name. */
  readonly tls?: { readonly ca?: string, readonly rejectUnauthorized: boolean, readonly servername?: string }
}

/** undici's HTTP/2 flow-control windows (its documented defaults): Node's 64 KiB would throttle large bodies. */
const STREAM_WINDOW = 256 * 1024
const CONNECTION_WINDOW = 512 * 1024

/**
 * After a connection failed while another was open, no new one is dialled
 * for this long: the waiting requests have the open one, and a peer that
 * refuses connections is not redialled in a loop.
 */
const REDIAL_BACKOFF_MS = 1000

/** One connection and what the pool knows of it. */
class Connection implements StreamHost {
  /** Streams open on it (ours, counted from request to close). */
  streams = 0
  /** Takes new streams: false once GOAWAY came, it failed, or it is closing. */
  open = true
  /** The peer's SETTINGS came: its stream limit is known and streams may open. */
  ready = false
  /** Why it failed before it was ready (the error requests waiting for it report). */
  error: Error | undefined
  #idle: NodeJS.Timeout | undefined

  constructor (readonly session: ClientHttp2Session, private readonly pool: H2Pool) {}

  /** Streams it may carry: our cap, or the peer's SETTINGS_MAX_CONCURRENT_STREAMS when lower (set when its SETTINGS come). */
  limit = 0

  get hasRoom (): boolean {
    return this.streams < this.limit
  }

  streamOpened (): void {
    this.streams++
    if (this.#idle !== undefined) {
      clearTimeout(this.#idle)
      this.#idle = undefined
    }
  }

  streamClosed (): void {
    this.streams--
    this.pool.roomFreed(this)
    this.idleCheck()
  }

  /** With no stream left, it closes after the keep-alive timeout unless one comes. */
  idleCheck (): void {
    if (this.streams > 0 || !this.open || this.#idle !== undefined) return
    this.#idle = setTimeout(() => { this.retire() }, this.pool.options.keepAliveTimeoutMs)
    this.#idle.unref()
  }

  /** Out of the rotation; closes once its streams are done. */
  retire (): void {
    this.open = false
    if (this.#idle !== undefined) clearTimeout(this.#idle)
    if (!this.session.closed && !this.session.destroyed) this.session.close()
  }
}

export class H2Pool extends Dispatcher {
  readonly #connections: Connection[] = []
  /**
   * Requests waiting for a stream: while their connection is still
   * connecting (the peer's stream limit is unknown until its SETTINGS, and
   * streams over it would be refused), or, briefly, when the capacity
   * shrank under the requests already sent here (a lower SETTINGS).
   */
  #queue: H2Request[] = []
  readonly #target: Target
  #closed = false
  /**
   * What a connection not ready yet (or not open yet) is counted for: the
   * stream limit of the last SETTINGS, and 1, as an HTTP/1.1 connection,
   * until one came (more could be refused, or wait here unbounded).
   */
  #perConnection = 1
  /** Running while no connection is dialled after a failed one (REDIAL_BACKOFF_MS). */
  #redial: NodeJS.Timeout | undefined
  #reported: number
  /** Told when `capacity` changes: the target's Upstream admits that many requests at once. */
  onCapacity: ((streams: number) => void) | undefined

  constructor (readonly origin: string, readonly options: H2PoolOptions) {
    super()
    const url = new URL(origin)
    this.#target = { scheme: url.protocol === 'https:' ? 'https' : 'http', authority: url.host }
    this.#reported = this.capacity
  }

  /**
   * Requests the pool can carry at once: the streams each open connection
   * takes (its limit once ready), those still running on draining ones, and
   * what the connections it may yet open would take (none while a redial
   * waits).
   */
  get capacity (): number {
    let streams = 0
    let open = 0
    for (const c of this.#connections) {
      if (!c.open) {
        streams += c.streams
        continue
      }
      open++
      streams += c.ready ? c.limit : this.#perConnection
    }
    if (this.#redial === undefined && open < this.options.connections) streams += (this.options.connections - open) * this.#perConnection
    return streams
  }

  #report (): void {
    if (this.#closed) return
    const capacity = this.capacity
    if (capacity === this.#reported) return
    this.#reported = capacity
    this.onCapacity?.(capacity)
  }

  override dispatch (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const raw = handler as unknown as RawDispatchHandler
    if (this.#closed) {
      raw.onError(new H2UpstreamError(`the pool of ${this.origin} is closed`, 'UND_ERR_CLOSED'))
      return false
    }
    const request = new H2Request(this.#target, opts, raw)
    if (request.done) return true
    const c = this.#withRoom()
    if (c !== undefined) {
      request.start(c)
      return true
    }
    this.#queue.push(request)
    this.#grow()
    return true
  }

  /** The first ready connection with room (filling one before the next, as Envoy does). */
  #withRoom (): Connection | undefined {
    for (const c of this.#connections) if (c.open && c.ready && c.hasRoom) return c
    return undefined
  }

  /** Opens a connection when the waiting requests need one: none is being opened, and fewer than `connections` are open. */
  #grow (): void {
    if (this.#closed || this.#redial !== undefined) return
    let open = 0
    for (const c of this.#connections) {
      if (!c.open) continue
      if (!c.ready) return
      open++
    }
    if (open < this.options.connections) this.#open()
  }

  /** Starts waiting requests on connections with room; opens another when they are full. */
  #drain (): void {
    while (this.#queue.length > 0) {
      const request = this.#queue[0] as H2Request
      if (request.done) {
        this.#queue.shift()
        continue
      }
      const c = this.#withRoom()
      if (c === undefined) {
        this.#grow()
        return
      }
      this.#queue.shift()
      request.start(c)
    }
  }

  /**
   * A connection failed before it was ready: when no other is open or
   * opening, the waiting requests fail with its error (and the next request
   * dials again); otherwise they wait for the open ones, and no connection
   * is dialled for REDIAL_BACKOFF_MS.
   */
  #failed (c: Connection): void {
    if (this.#connections.some(o => o.open)) {
      if (this.#redial !== undefined || this.#closed) return
      this.#redial = setTimeout(() => {
        this.#redial = undefined
        this.#report()
        this.#drain()
      }, REDIAL_BACKOFF_MS)
      this.#redial.unref()
      return
    }
    const err = c.error ?? new H2UpstreamError(`the HTTP/2 connection to ${this.origin} closed before it was ready`, 'UND_ERR_SOCKET')
    for (const request of this.#queue.splice(0)) request.fail(err)
  }

  #open (): void {
    const tls = this.options.tls
    const options: SecureClientSessionOptions = {
      // A proxy has no use for server push.
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
      ...(tls === undefined
        ? {}
        : {
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            ...(tls.servername === undefined ? {} : { servername: tls.servername })
          })
    }
    const session = connect(this.origin, options)
    const c = new Connection(session, this)
    this.#connections.push(c)
    // Until the peer's SETTINGS: a server that accepts the TCP connection and says nothing times out too.
    const timer = setTimeout(() => {
      c.error = new H2UpstreamError(`connect timeout: no HTTP/2 connection to ${this.origin} within ${this.options.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT')
      session.destroy(c.error)
    }, this.options.connectTimeoutMs)
    timer.unref()
    session.once('connect', () => { session.setLocalWindowSize(CONNECTION_WINDOW) })
    session.on('remoteSettings', (settings: Settings) => {
      clearTimeout(timer)
      c.ready = true
      const cap = this.options.streamsPerConnection
      const peer = settings.maxConcurrentStreams ?? cap
      c.limit = peer < cap ? peer : cap
      this.#perConnection = Math.max(1, c.limit)
      this.#report()
      // Also when a later SETTINGS raises the limit.
      this.#drain()
      c.idleCheck()
    })
    // The peer is shutting down: no new streams here (those it accepted finish); waiting requests need another.
    session.once('goaway', () => {
      c.open = false
      this.#report()
      this.#drain()
    })
    session.on('error', (err: Error) => {
      c.open = false
      if (!c.ready) c.error ??= err
      this.#report()
    })
    session.once('close', () => {
      clearTimeout(timer)
      c.open = false
      const i = this.#connections.indexOf(c)
      if (i !== -1) this.#connections.splice(i, 1)
      if (!c.ready) this.#failed(c)
      this.#report()
      this.#drain()
    })
  }

  /** A stream closed on `c`: a waiting request may take its place; on a draining connection, the capacity shrinks by it. */
  roomFreed (c: Connection): void {
    if (!c.open) this.#report()
    if (this.#queue.length > 0) this.#drain()
  }

  #fail (why: string): void {
    this.#closed = true
    clearTimeout(this.#redial)
    const closed = new H2UpstreamError(`the pool of ${this.origin} ${why} before a stream was free`, 'UND_ERR_CLOSED')
    for (const request of this.#queue.splice(0)) request.fail(closed)
  }

  /** Stops taking requests; resolves once the streams in flight have finished and the connections closed. */
  override async close (): Promise<void> {
    this.#fail('closed')
    await Promise.all(this.#connections.map(async c => {
      if (c.session.closed || c.session.destroyed) return
      await new Promise<void>(resolve => {
        c.session.once('close', resolve)
        c.retire()
      })
    }))
  }

  /** Fails every request at once, those waiting for a stream too. */
  override async destroy (): Promise<void> {
    this.#fail('was destroyed')
    for (const c of [...this.#connections]) c.session.destroy()
  }
}
