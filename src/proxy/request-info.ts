/**
 * Who asked what: the request's ID and where it came from, made once when a
 * request arrives (or is refused by the parser) and handed to the access
 * log, the error log and tracing at its end. Everything a log line shows is
 * read from the request only when a line is written, so that a request
 * costs nothing more while the access log is off.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** What Node's parser had read of a request it refused (`err.rawPacket`), when the request line was complete. */
export interface PartialHead {
  readonly method: string
  readonly target: string
  readonly host: string | undefined
}

export class RequestInfo {
  /** The request's span while tracing is on (see observability/tracing.ts). */
  trace: unknown = undefined

  constructor (
    readonly id: string,
    /** The header the ID travels in (lowercased, from the config). */
    readonly idHeader: string,
    /** performance.now() when the request arrived. */
    readonly startTime: number,
    readonly socket: Socket,
    /** The peer address (IPv4-mapped IPv6 shown as IPv4). */
    readonly client: string,
    readonly req: IncomingMessage | undefined,
    readonly partial?: PartialHead
  ) {}

  get method (): string | undefined {
    return this.req?.method ?? this.partial?.method
  }

  /** The request target as received: path and query. */
  get target (): string | undefined {
    return this.req?.url ?? this.partial?.target
  }

  /** The path without the query. */
  get path (): string | undefined {
    const target = this.target
    if (target === undefined) return undefined
    const q = target.indexOf('?')
    return q === -1 ? target : target.slice(0, q)
  }

  get host (): string | undefined {
    return this.req === undefined ? this.partial?.host : this.req.headers.host
  }

  get userAgent (): string | undefined {
    return this.req?.headers['user-agent']
  }
}

const REQUEST_LINE = /^([A-Z]{1,20}) (\S{1,8192}) HTTP\/\d\.\d\r?\n/
const HOST_LINE = /\r?\nhost:[ \t]*([^\r\n]{1,1024})/i

/** The request line and Host of a refused request's raw bytes, when they are there and well-formed. */
export function partialHead (raw: Buffer | undefined): PartialHead | undefined {
  if (raw === undefined || raw.length === 0) return undefined
  const text = raw.subarray(0, 16 * 1024).toString('latin1')
  const line = REQUEST_LINE.exec(text)
  if (line === null) return undefined
  return { method: line[1] as string, target: line[2] as string, host: HOST_LINE.exec(text)?.[1]?.trim() }
}

const kMarks = Symbol('switchyard.byteMarks')
type MarkedSocket = Socket & { [kMarks]?: { read: number, written: number } }

/**
 * Bytes this request read and wrote on its connection: the socket's
 * counters since the previous request on it ended (nginx's
 * `$request_length` and `$bytes_sent`: heads included). With HTTP
 * pipelining the next request's head may be counted in.
 */
export function bytesOfRequest (socket: Socket): { in: number, out: number } {
  const s = socket as MarkedSocket
  const read = s.bytesRead
  const written = s.bytesWritten
  const marks = s[kMarks]
  if (marks === undefined) {
    s[kMarks] = { read, written }
    return { in: read, out: written }
  }
  const bytes = { in: read - marks.read, out: written - marks.written }
  marks.read = read
  marks.written = written
  return bytes
}
