/**
 * Why an exchange, or one attempt of it, failed: one vocabulary for the
 * metrics (`kind` and `reason` labels), retries, outlier detection and logs.
 */

/** Failures of the upstream itself; these feed outlier detection and `switchyard_upstream_errors_total`. */
export const UPSTREAM_FAILURES = ['connect', 'timeout', 'reset', 'other'] as const
export type UpstreamFailure = typeof UPSTREAM_FAILURES[number]

/**
 * - `connect`: refused, unreachable, no address: nothing was sent (502);
 * - `timeout`: no connection, response head or body chunk in time (504);
 * - `reset`: the upstream connection closed or reset during the exchange (502);
 * - `other`: any other upstream error (502);
 * - `status`: the upstream answered with a 5xx status (its answer, not ours);
 * - `no_target`: the backend and its fallbacks had no healthy target (503);
 * - `queue_full`: every connection to the target was busy and `maxPending` requests already waited (503);
 * - `queue_timeout`: no connection became free within `queueTimeout` or the route's timeout (504);
 * - `client_closed`: the client went away before the response was complete;
 * - `client_timeout`: the client stopped sending its request body (408);
 * - `body_too_large`: the request body passed the route's `maxBodyBytes` (413);
 * - `drained`: a gRPC stream ended by switchyard (UNAVAILABLE) after its backend's weight went to 0.
 */
export type FailureKind = UpstreamFailure | 'status' | 'no_target' | 'queue_full' | 'queue_timeout' | 'client_closed' | 'client_timeout' | 'body_too_large' | 'drained'

/** Why a request waiting for a connection was answered without one (`switchyard_upstream_queue_rejections_total`). */
export const QUEUE_FAILURES = ['queue_full', 'queue_timeout'] as const satisfies readonly FailureKind[]

/** The failures after which a request may go to another target (`status`: a 502/503 answer). */
export const RETRY_REASONS = ['connect', 'timeout', 'reset', 'status'] as const satisfies readonly FailureKind[]
export type RetryReason = typeof RETRY_REASONS[number]

/** What an undici/socket error means: its kind, the status the client gets, and whether nothing reached the upstream. */
export interface ClassifiedError {
  readonly kind: UpstreamFailure
  readonly status: number
  readonly beforeSend: boolean
}

const CONNECT_TIMEOUT: ClassifiedError = { kind: 'timeout', status: 504, beforeSend: true }
const TIMEOUT: ClassifiedError = { kind: 'timeout', status: 504, beforeSend: false }
const CONNECT: ClassifiedError = { kind: 'connect', status: 502, beforeSend: true }
const RESET: ClassifiedError = { kind: 'reset', status: 502, beforeSend: false }
const OTHER: ClassifiedError = { kind: 'other', status: 502, beforeSend: false }

/** Aborts an attempt whose response head did not come within the route's timeout (a timeout of that target). */
export const ROUTE_TIMEOUT = Object.assign(new Error('no response head within the route\'s timeout'), { code: 'SY_ROUTE_TIMEOUT' })

/** Maps an undici/socket error to its kind and the status the client gets (constants: no allocation). */
export function classifyUpstreamError (err: Error): ClassifiedError {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return CONNECT_TIMEOUT
    case 'SY_ROUTE_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return TIMEOUT
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return CONNECT
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return RESET
    default:
      return OTHER
  }
}

/** Whether `kind` is the upstream's own failure (counted against the target). */
export function isUpstreamFailure (kind: FailureKind | undefined): kind is UpstreamFailure {
  return kind === 'connect' || kind === 'timeout' || kind === 'reset' || kind === 'other'
}
