/**
 * What the data path needs to know about gRPC (grpc/grpc
 * doc/PROTOCOL-HTTP2.md): how a gRPC request is recognised, how switchyard
 * answers one itself (Trailers-Only: `:status 200` and `grpc-status` in one
 * HEADERS frame that ends the stream; a text 502 would reach the client as
 * UNKNOWN), and how trailers are carried across.
 */
import type { Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2'
import { constants } from 'node:http2'
import { GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_RESOURCE_EXHAUSTED, GRPC_UNAVAILABLE, grpcCodeOfHttpStatus } from '../util/grpc-status.js'

/** `application/grpc`, `application/grpc+proto`, `application/grpc+json`…, not grpc-web (which has its own framing over HTTP/1.1). */
export function isGrpcContentType (contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false
  const c = contentType.charCodeAt(16)
  return Number.isNaN(c) || c === 43 /* + */ || c === 59 /* ; */
}

/** The gRPC status for an answer switchyard gives itself with HTTP status `status`. */
export function grpcCodeOfOwnAnswer (status: number): number {
  switch (status) {
    case 408: return GRPC_CANCELLED
    case 413: case 431: return GRPC_RESOURCE_EXHAUSTED
    case 504: return GRPC_DEADLINE_EXCEEDED
    case 502: case 503: return GRPC_UNAVAILABLE
    case 400: return GRPC_INTERNAL
    default: return grpcCodeOfHttpStatus(status)
  }
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md "Status-Message"): the UTF-8 bytes outside printable ASCII, and `%`. */
export function encodeGrpcMessage (message: string): string {
  let out = ''
  for (const b of Buffer.from(message, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * A Trailers-Only answer on an HTTP/2 stream: one HEADERS frame with
 * END_STREAM. Node's compatibility response would send the head and then
 * end the stream in a second frame, which gRPC clients read as a response
 * without status; so the stream's own respond() is used.
 */
export function respondTrailersOnly (res: Http2ServerResponse, headers: OutgoingHttpHeaders): void {
  const stream = res.stream
  if (stream.headersSent || stream.destroyed) return
  stream.respond({ [constants.HTTP2_HEADER_STATUS]: 200, ...headers }, { endStream: true })
}

/** switchyard's own error to a gRPC client, with the request ID. */
export function sendGrpcError (res: Http2ServerResponse, code: number, message: string, idHeader: string, id: string): void {
  respondTrailersOnly(res, {
    'content-type': 'application/grpc',
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(message),
    [idHeader]: id
  })
}

/** Trailers as undici hands them over: a raw [name, value, …] Buffer list (HTTP/1.1), or a header object (HTTP/2). */
export type UpstreamTrailers = ReadonlyArray<Buffer | string> | Readonly<Record<string, string | string[] | undefined>> | null | undefined

/** The trailers as an object for `res.addTrailers()`, without pseudo-headers; undefined when there are none. */
export function trailerObject (trailers: UpstreamTrailers): Record<string, string> | undefined {
  if (trailers === null || trailers === undefined) return undefined
  const out: Record<string, string> = {}
  let any = false
  if (Array.isArray(trailers)) {
    const raw = trailers as ReadonlyArray<Buffer | string>
    const text = (x: Buffer | string | undefined): string => typeof x === 'string' ? x : x === undefined ? '' : x.toString('latin1')
    for (let i = 0; i + 1 < raw.length; i += 2) {
      out[text(raw[i]).toLowerCase()] = text(raw[i + 1])
      any = true
    }
  } else {
    for (const [name, value] of Object.entries(trailers as Readonly<Record<string, string | string[] | undefined>>)) {
      if (value === undefined || name.charCodeAt(0) === 58 /* : */) continue
      out[name] = typeof value === 'string' ? value : value.join(', ')
      any = true
    }
  }
  return any ? out : undefined
}

/** The value of `name` (lowercase) in a flat [name, value, …] list whose names may have any case; undefined when absent. */
export function flatValue (flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const n = flat[i] as string
    if (n.length === name.length && n.toLowerCase() === name) return flat[i + 1]
  }
  return undefined
}

/** A flat [name, value, …] list as a header object (repeated names joined as Node does for arrays). */
export function flatToObject (flat: readonly string[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase()
    const value = flat[i + 1] as string
    const prev = out[name]
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}
