/**
 * HTTP/2 beside HTTP/1.1 on the proxy's one port.
 *
 * The HTTP/1.1 server keeps the listening socket (its limits, connection
 * tracking and drain are unchanged); its connection handler is wrapped so
 * that each new connection first goes through a protocol choice:
 * - with TLS, ALPN decides: `h2` goes to the HTTP/2 session server, anything
 *   else (`http/1.1`, or no ALPN) to HTTP/1.1;
 * - in cleartext, the first bytes decide: the HTTP/2 connection preface
 *   (`PRI * HTTP/2.0…`, RFC 9113 §3.4, "prior knowledge") goes to HTTP/2,
 *   anything else to HTTP/1.1. Node's plaintext http2 server cannot fall
 *   back to HTTP/1.1 itself (nodejs/node #18554).
 *
 * The HTTP/2 server never listens: it only gets the connections handed to
 * it. Its sessions are tracked so that a drain can send GOAWAY (streams in
 * flight finish, no new ones start) and a shutdown can cut what remains.
 * Limits against hostile clients are set here (see `http2Options`).
 */
import { createServer as createH2Server, constants, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { Server as NetServer, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Http2Settings, ServerSettings } from '../routing/types.js'

/** The client connection preface every HTTP/2 connection starts with. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** The session options that keep one client from hurting the others. */
export function http2Options (server: ServerSettings): Parameters<typeof createH2Server>[0] {
  const h2 = server.http2
  return {
    maxSessionMemory: h2.maxSessionMemoryMiB,
    // Header blocks beyond the listener's head limit (HPACK-decoded size)
    // are refused with a stream error; the block is not buffered past it.
    maxHeaderListPairs: server.maxHeaders + 8,
    settings: {
      maxConcurrentStreams: h2.maxConcurrentStreams,
      maxHeaderListSize: server.maxHeaderBytes,
      enablePush: false
    },
    // Streams over maxConcurrentStreams that a client opens anyway are
    // refused; after this many the session is closed (Node's default is 100).
    maxSessionRejectedStreams: 100,
    // Malformed or unexpected frames before the session is torn down (SETTINGS/PING floods: see #track).
    maxSessionInvalidFrames: 1000
  }
}

/** Frames of one kind a session received in the current second. */
class RateCount {
  #second = 0
  #count = 0

  /** Counts one at `now` (performance.now()); true when that is more than `limit` in this second. */
  over (now: number, limit: number): boolean {
    const second = Math.floor(now / 1000)
    if (second !== this.#second) {
      this.#second = second
      this.#count = 0
    }
    return ++this.#count > limit
  }
}

/** Per session: the rates of the frames a flood is made of (rapid reset, SETTINGS, PING). */
interface FloodCounts { readonly resets: RateCount, readonly settings: RateCount, readonly pings: RateCount }
const kFlood = Symbol('switchyard.flood')
type CountedSession = ServerHttp2Session & { [kFlood]?: FloodCounts }

/** A flooding client's connection ends: GOAWAY ENHANCE_YOUR_CALM, then closed, streams and all. */
function calm (session: ServerHttp2Session): void {
  if (session.destroyed) return
  session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM)
  session.destroy()
}

export class Http2Front {
  readonly server: Http2Server
  readonly #sessions = new Set<ServerHttp2Session>()
  readonly #settings: Http2Settings
  #closing = false

  constructor (server: ServerSettings, onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void) {
    this.#settings = server.http2
    this.server = createH2Server(http2Options(server), onRequest)
    this.server.on('session', (session: ServerHttp2Session) => this.#track(session))
    this.server.on('stream', (stream: ServerHttp2Stream) => this.#watchResets(stream))
    // A session error (a flood, a protocol violation) ends that client's connection only.
    this.server.on('sessionError', () => {})
  }

  /** Sessions open now. */
  get size (): number {
    return this.#sessions.size
  }

  #track (session: ServerHttp2Session): void {
    if (this.#closing) {
      session.close()
      return
    }
    this.#sessions.add(session)
    session.on('close', () => this.#sessions.delete(session))
    session.on('error', () => {})
    const counts: FloodCounts = (session as CountedSession)[kFlood] = { resets: new RateCount(), settings: new RateCount(), pings: new RateCount() }
    // SETTINGS and PING floods: each frame costs an acknowledgement (nghttp2 only stops a client that does not read them).
    const s = this.#settings
    session.on('remoteSettings', () => { if (counts.settings.over(performance.now(), s.maxSettingsPerSecond)) calm(session) })
    session.on('ping', () => { if (counts.pings.over(performance.now(), s.maxPingsPerSecond)) calm(session) })
  }

  /**
   * Rapid reset (CVE-2023-44487): a client that opens streams and resets
   * them at once makes the proxy start upstream work it never pays for.
   * More than `maxResetsPerSecond` client resets in a second close the
   * session with GOAWAY ENHANCE_YOUR_CALM.
   */
  #watchResets (stream: ServerHttp2Stream): void {
    // Taken now: a closed stream no longer knows its session.
    const session = stream.session as CountedSession | undefined
    stream.once('close', () => {
      // Reset by either side before it ended normally (a client's RST_STREAM, or ours after it misbehaved).
      if (stream.rstCode === constants.NGHTTP2_NO_ERROR) return
      const counts = session?.[kFlood]
      if (session === undefined || counts === undefined || session.destroyed) return
      if (counts.resets.over(performance.now(), this.#settings.maxResetsPerSecond)) calm(session)
    })
  }

  /**
   * Hands every new connection of `h1` to HTTP/1.1 or HTTP/2 (see the file
   * comment). `secure`: TLS (choose by ALPN), else by the preface.
   * `sniffTimeoutMs`: a cleartext client that sends nothing is closed.
   */
  attach (h1: NetServer, secure: boolean, sniffTimeoutMs: number): void {
    const event = secure ? 'secureConnection' : 'connection'
    const http1 = h1.listeners(event) as Array<(socket: Socket) => void>
    h1.removeAllListeners(event)
    const toHttp1 = (socket: Socket): void => { for (const l of http1) l.call(h1, socket) }
    h1.on(event, (socket: Socket) => {
      if (secure) {
        if ((socket as TLSSocket).alpnProtocol === 'h2') this.server.emit('connection', socket)
        else toHttp1(socket)
        return
      }
      this.#sniff(socket, toHttp1, sniffTimeoutMs)
    })
  }

  #sniff (socket: Socket, toHttp1: (socket: Socket) => void, timeoutMs: number): void {
    let head: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
      const n = Math.min(head.length, PREFACE.length)
      const h2 = head.subarray(0, n).equals(PREFACE.subarray(0, n))
      // A prefix of the preface too short to tell: wait for more.
      if (h2 && n < PREFACE.length && n < 4) return
      clearTimeout(timer)
      socket.removeListener('data', onData)
      socket.removeListener('error', onError)
      socket.pause()
      socket.unshift(head)
      if (h2) {
        // The session reads what was put back; no resume (flowing mode would hand it to nobody).
        this.server.emit('connection', socket)
      } else {
        toHttp1(socket)
        socket.resume()
      }
    }
    const onError = (): void => {
      clearTimeout(timer)
      socket.destroy()
    }
    socket.on('data', onData)
    socket.on('error', onError)
    socket.once('close', () => clearTimeout(timer))
  }

  /** Drain: GOAWAY to every session; their streams in flight finish, new connections' sessions close at once. */
  closeAll (): void {
    this.#closing = true
    for (const s of this.#sessions) s.close()
  }

  /** Shutdown timeout: cut the sessions still open. */
  destroyAll (): void {
    for (const s of this.#sessions) s.destroy()
  }

  /** Whether every session has closed. */
  get idle (): boolean {
    return this.#sessions.size === 0
  }
}
