/**
 * What one finished exchange was, handed to the listeners (metrics, access
 * log) once, when it ends. It holds values only, never the exchange, the
 * request or the pools, so a listener cannot reach into the data path nor
 * keep it alive; and it is the only object the end of a request allocates.
 */
import type { Backend, Decision } from '../routing/types.js'
import type { FailureKind } from './failure.js'
import type { RequestInfo } from './request-info.js'

export class ExchangeRecord {
  constructor (
    readonly decision: Decision,
    /** The request method as received. */
    readonly method: string,
    /** The backend that served the request, or last tried to: its fallback after a failover. */
    readonly served: Backend,
    /** Origin of the target that served or last tried, e.g. `http://10.0.0.7:8080`; undefined when none was chosen. */
    readonly target: string | undefined,
    /** Status sent to the client; 0 when nothing was sent (the client left first). */
    readonly status: number,
    /** Why the exchange failed; undefined when the upstream's answer (below 500) was relayed whole. */
    readonly failure: FailureKind | undefined,
    /** Attempts after the first. */
    readonly retries: number,
    /** The upstream's response head (with switchyard's own headers) reached the client. */
    readonly headersForwarded: boolean,
    /** The client went away before the response was complete. */
    readonly clientClosed: boolean,
    /** performance.now() at the request's arrival. */
    readonly startTime: number,
    /** performance.now() when the upstream's response head arrived; 0 when none did. */
    readonly headersTime: number,
    /** performance.now() at the end of the exchange. */
    readonly endTime: number,
    /** Response body bytes relayed from the upstream to the client. */
    readonly bytesOut: number,
    /** The request's ID, client and (while tracing) span. */
    readonly request: RequestInfo,
    /** The upstream error's code (e.g. ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT) when one ended the exchange. */
    readonly cause: string | undefined,
    /** The gRPC status the client got (0–16), or -1 when the request was not gRPC. */
    readonly grpcStatus: number = -1
  ) {}

  /** Whether the gRPC status counts as the backend's error under the route's `grpc.errorCodes`. */
  get grpcError (): boolean {
    // A stream switchyard drained (weight went to 0) is not the backend's failure.
    return this.grpcStatus >= 0 && this.failure !== 'drained' && this.decision.route.grpcErrorCodes[this.grpcStatus] === true
  }

  /** A backend other than the decided one served (failover). */
  get failedOver (): boolean {
    return this.served !== this.decision.backend
  }

  /** Milliseconds from arrival to the end. */
  get durationMs (): number {
    return this.endTime - this.startTime
  }

  /** Milliseconds from arrival to the upstream's response head; undefined when none arrived. */
  get upstreamHeaderMs (): number | undefined {
    return this.headersTime === 0 ? undefined : this.headersTime - this.startTime
  }
}
