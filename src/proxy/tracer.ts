/**
 * What the request path asks of a tracer. The proxy owns this interface and
 * observability/tracing.ts implements it, so the proxy never imports the
 * observability layer (or OpenTelemetry) itself.
 */
import type { IncomingMessage } from 'node:http'
import type { Decision } from '../routing/types.js'
import type { RequestInfo } from './request-info.js'

export interface RequestTracer {
  /** Starts the request's span (on `info.trace`) and puts the upstream's traceparent/tracestate in `upstreamHeaders`. */
  start (info: RequestInfo, req: IncomingMessage, decision: Decision, upstreamHeaders: string[]): void
  /** Exports the spans still held, then stops. */
  shutdown (): Promise<void>
}
