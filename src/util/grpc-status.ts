/**
 * gRPC status codes (grpc/grpc doc/statuscodes.md) and the HTTP status →
 * gRPC status mapping a client applies to a non-gRPC answer
 * (doc/http-grpc-status-mapping.md). A leaf: the config schema, the proxy
 * and the metrics all read it.
 */

/** The 17 codes by name, indexed by their number. */
export const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'
] as const
export type GrpcCodeName = typeof GRPC_CODE_NAMES[number]

export const GRPC_OK = 0
export const GRPC_CANCELLED = 1
export const GRPC_UNKNOWN = 2
export const GRPC_DEADLINE_EXCEEDED = 4
export const GRPC_RESOURCE_EXHAUSTED = 8
export const GRPC_INTERNAL = 13
export const GRPC_UNAVAILABLE = 14

/** The codes counted as the server's errors unless a route says otherwise (as Envoy maps them to 5xx). */
export const DEFAULT_GRPC_ERROR_CODES: readonly GrpcCodeName[] = ['UNKNOWN', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']

/** A `grpc-status` value → its code; anything that is not one of the 17 numbers is UNKNOWN (as clients treat it). */
export function parseGrpcStatus (value: string | undefined): number {
  if (value === undefined) return GRPC_UNKNOWN
  const n = value.length === 1 || value.length === 2 ? Number(value) : NaN
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : GRPC_UNKNOWN
}

/** What a gRPC client makes of an HTTP status that came without a grpc-status. */
export function grpcCodeOfHttpStatus (status: number): number {
  switch (status) {
    case 400: return GRPC_INTERNAL
    case 401: return 16 // UNAUTHENTICATED
    case 403: return 7 // PERMISSION_DENIED
    case 404: return 12 // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE
    default: return GRPC_UNKNOWN
  }
}

/**
 * `grpc-timeout` (`1S`, `250m`, `100u`…: up to 8 digits and a unit) in
 * milliseconds, rounded up; undefined when absent or malformed.
 */
export function parseGrpcTimeout (value: string | undefined): number | undefined {
  if (value === undefined || value.length < 2 || value.length > 9) return undefined
  const digits = value.slice(0, -1)
  if (!/^[0-9]+$/.test(digits)) return undefined
  const n = Number(digits)
  switch (value.charCodeAt(value.length - 1)) {
    case 72: return n * 3_600_000 // H
    case 77: return n * 60_000 // M
    case 83: return n * 1000 // S
    case 109: return n // m
    case 117: return Math.ceil(n / 1000) // u
    case 110: return Math.ceil(n / 1_000_000) // n
    default: return undefined
  }
}
