/**
 * One request on one HTTP/2 stream of an H2Pool connection (h2-pool.ts),
 * reporting to an undici dispatch handler as undici's own clients do: the
 * request's header block, its body piped into the stream, the response
 * head, body and trailers handed over, and failures as undici's errors.
 */
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { RawDispatchHandler } from './forward.js'

/** An upstream failure, with undici's error code for the same condition, so that failure.ts classifies it alike. */
export class H2UpstreamError extends Error {
  constructor (message: string, readonly code: string) {
    super(message)
    this.name = 'H2UpstreamError'
  }
}

/** The parts of the origin every request's header block carries. */
export interface Target { readonly scheme: string, readonly authority: string }

/** The connection a request's stream opens on, as the request sees it (the pool's Connection). */
export interface StreamHost {
  readonly session: ClientHttp2Session
  streamOpened (): void
  streamClosed (): void
}

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = constants

/** One request on one stream, reporting to an undici dispatch handler. */
export class H2Request {
  readonly #handler: RawDispatchHandler
  readonly #target: Target
  readonly #opts: Dispatcher.DispatchOptions
  #connection: StreamHost | undefined
  #stream: ClientHttp2Stream | undefined
  #body: Readable | undefined
  #trailers: IncomingHttpHeaders | undefined
  #timer: NodeJS.Timeout | undefined
  #responded = false
  done = false

  /** Hands the handler its abort at once: a request waiting for a stream can be aborted too (route timeout, client gone). */
  constructor (target: Target, opts: Dispatcher.DispatchOptions, handler: RawDispatchHandler) {
    this.#handler = handler
    this.#target = target
    this.#opts = opts
    handler.onConnect(err => { this.fail(err ?? new H2UpstreamError('request aborted', 'UND_ERR_ABORTED')) })
  }

  /** Opens the stream on `connection` and sends the request. */
  start (connection: StreamHost): void {
    const opts = this.#opts
    const body = opts.body
    const endStream = body === null || body === undefined
    let stream: ClientHttp2Stream
    try {
      stream = connection.session.request(requestHeaders(opts, this.#target), { endStream })
    } catch (err) {
      // A field HTTP/2 forbids, or a connection already closing: nothing was sent.
      this.fail(err as Error)
      return
    }
    this.#connection = connection
    this.#stream = stream
    connection.streamOpened()
    stream.on('response', this.#onResponse)
    stream.on('data', this.#onData)
    stream.once('trailers', (trailers: IncomingHttpHeaders) => { this.#trailers = trailers })
    stream.once('end', this.#onEnd)
    stream.on('error', this.#onError)
    stream.once('close', this.#onClose)
    const headersTimeout = opts.headersTimeout ?? 0
    if (headersTimeout > 0) {
      this.#timer = setTimeout(() => { this.fail(new H2UpstreamError(`no response head within ${headersTimeout} ms`, 'UND_ERR_HEADERS_TIMEOUT')) }, headersTimeout)
    }
    if (endStream) return
    if (typeof (body as Readable).pipe === 'function') {
      const readable = this.#body = body as Readable
      readable.on('error', this.fail)
      readable.pipe(stream)
    } else {
      stream.end(body as string | Buffer | Uint8Array)
    }
  }

  readonly #resume = (): void => { this.#stream?.resume() }

  readonly #onResponse = (headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    if (this.done) return
    clearTimeout(this.#timer)
    this.#responded = true
    const raw: Buffer[] = []
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string
      if (name.charCodeAt(0) === 58 /* : */) continue
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(rawHeaders[i + 1] as string, 'latin1'))
    }
    const stream = this.#stream as ClientHttp2Stream
    if (this.#handler.onHeaders(Number(headers[':status']), raw, this.#resume, '') === false && !this.done) stream.pause()
    // undici's bodyTimeout: the longest silence between response body chunks.
    const bodyTimeout = this.#opts.bodyTimeout ?? 0
    if (bodyTimeout > 0 && !this.done) {
      stream.setTimeout(bodyTimeout, () => { this.fail(new H2UpstreamError(`no response body data for ${bodyTimeout} ms`, 'UND_ERR_BODY_TIMEOUT')) })
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.done) return
    if (this.#handler.onData(chunk) === false && !this.done) this.#stream?.pause()
  }

  readonly #onEnd = (): void => {
    if (this.done || !this.#responded) return
    this.#settle()
    // The answer came before the request body ended (an early response): stop sending it.
    const stream = this.#stream as ClientHttp2Stream
    if (!stream.writableFinished) stream.close(NGHTTP2_NO_ERROR)
    // undici hands over trailers as an object (HTTP/2), or an empty raw list when there are none.
    this.#handler.onComplete(this.#trailers ?? [])
  }

  readonly #onError = (err: Error): void => {
    this.fail(this.#upstreamError(err))
  }

  readonly #onClose = (): void => {
    this.#connection?.streamClosed()
    if (!this.done) this.fail(this.#upstreamError(undefined))
  }

  /**
   * What a stream's failure means in undici's terms: a reset
   * (`UND_ERR_SOCKET`), which the exchange's rules for a reset retry or
   * answer with 502. (A connection that never became ready fails its
   * waiting requests with its own error: ECONNREFUSED, TLS, connect timeout.)
   */
  #upstreamError (err: Error | undefined): Error {
    const code = this.#stream?.rstCode
    const why = code === NGHTTP2_REFUSED_STREAM
      ? 'refused the stream'
      : code !== undefined && code !== NGHTTP2_NO_ERROR && code !== NGHTTP2_CANCEL
        ? `reset the stream (HTTP/2 error ${code})`
        : `closed the stream${err === undefined ? '' : ` (${err.message})`}`
    return new H2UpstreamError(`the upstream ${why} before the response ended`, 'UND_ERR_SOCKET')
  }

  /** Done with the stream's body and timers. */
  #settle (): void {
    this.done = true
    clearTimeout(this.#timer)
    const body = this.#body
    if (body !== undefined) {
      body.off('error', this.fail)
      if (this.#stream !== undefined) body.unpipe(this.#stream)
    }
  }

  readonly fail = (err: Error): void => {
    if (this.done) return
    this.#settle()
    const stream = this.#stream
    if (stream !== undefined && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL)
    this.#handler.onError(err)
  }
}

/**
 * The dispatch options' headers as an HTTP/2 header block: the request line
 * as pseudo-headers, `host` as `:authority`, repeated names as arrays (Node
 * sends each as its own field). switchyard's request headers carry no
 * connection-specific field; a `te` other than `trailers` (forbidden in
 * HTTP/2) is dropped.
 */
function requestHeaders (opts: Dispatcher.DispatchOptions, target: Target): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  const add = (name: string, value: string): void => {
    const prev = out[name]
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value]
  }
  const h = opts.headers
  if (Array.isArray(h)) {
    for (let i = 0; i + 1 < h.length; i += 2) add((h[i] as string).toLowerCase(), String(h[i + 1]))
  } else if (h !== null && h !== undefined) {
    for (const [name, value] of Object.entries(h as Record<string, string | string[] | undefined>)) {
      if (value === undefined) continue
      for (const v of Array.isArray(value) ? value : [value]) add(name.toLowerCase(), v)
    }
  }
  const host = out.host
  delete out.host
  if (out.te !== undefined && out.te !== 'trailers') delete out.te
  out[':method'] = opts.method
  out[':scheme'] = target.scheme
  out[':authority'] = typeof host === 'string' ? host : target.authority
  out[':path'] = opts.path
  return out
}
