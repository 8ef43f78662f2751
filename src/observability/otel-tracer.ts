/**
 * OpenTelemetry spans for proxied requests, exported over OTLP/HTTP (JSON).
 * Loaded only when `tracing.enabled` (see tracing.ts): with tracing off,
 * none of the OpenTelemetry packages is imported.
 *
 * One SERVER span per request, a child of the client's `traceparent` when
 * it sent a valid one (W3C Trace Context), else the root of a new trace
 * sampled at `sampleRatio`. The upstream gets a `traceparent` naming this
 * span as its parent, and the client's `tracestate` unchanged; a request
 * whose parent was not sampled keeps that decision (flags 00), as Envoy and
 * Traefik do. No global OpenTelemetry state is registered: the provider
 * and propagator are used directly, so an embedding program's own setup is
 * left alone.
 */
import type { IncomingMessage } from 'node:http'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter } from '@opentelemetry/api'
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Logger } from 'pino'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { RequestInfo } from '../proxy/request-info.js'
import type { Decision, TracingSettings } from '../routing/types.js'
import type { RequestTracer } from '../proxy/tracer.js'

const headerGetter: TextMapGetter<IncomingMessage['headers']> = {
  keys: carrier => Object.keys(carrier),
  get: (carrier, key) => carrier[key]
}

export function createTracer (settings: TracingSettings, logger: Logger): RequestTracer {
  // Export failures surface through the SDK's global error handler; one warn per failed batch.
  setGlobalErrorHandler(err => { logger.warn({ err, endpoint: settings.endpoint }, 'span export failed') })
  const exporter = new OTLPTraceExporter(settings.endpoint === undefined ? {} : { url: settings.endpoint })
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'switchyard' }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })]
  })
  const tracer = provider.getTracer('switchyard')
  const propagator = new W3CTraceContextPropagator()

  return {
    start (info: RequestInfo, req: IncomingMessage, decision: Decision, upstreamHeaders: string[]): void {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter)
      const attributes: Attributes = {
        'http.request.method': info.method,
        'url.path': info.path,
        'url.scheme': 'http',
        'server.address': req.headers.host,
        'client.address': info.client,
        'user_agent.original': req.headers['user-agent'],
        'switchyard.request_id': info.id,
        'switchyard.route': decision.route.name,
        'switchyard.rule': decision.rule
      }
      const span = tracer.startSpan(`${info.method ?? 'HTTP'} ${decision.route.name}`, { kind: SpanKind.SERVER, attributes }, parent)
      info.trace = span
      // The client's traceparent is replaced by this span's; tracestate is carried over by the propagator.
      for (let i = upstreamHeaders.length - 2; i >= 0; i -= 2) {
        const name = upstreamHeaders[i]
        if (name === 'traceparent' || name === 'tracestate') upstreamHeaders.splice(i, 2)
      }
      propagator.inject(trace.setSpan(parent, span), upstreamHeaders, {
        set: (carrier: string[], key, value) => { carrier.push(key, value) }
      })
    },

    async shutdown (): Promise<void> {
      await provider.shutdown()
    }
  }
}

/** Ends the span of `record.request` (through the provider that started it, even one replaced since). */
export function endSpan (record: ExchangeRecord): void {
  const span = record.request.trace as Span
  span.setAttributes({
    'http.response.status_code': record.status,
    'switchyard.backend': record.served.name,
    'switchyard.version': record.served.version,
    'switchyard.target': record.target,
    'switchyard.retries': record.retries,
    'switchyard.failover': record.failedOver,
    'error.type': record.failure
  })
  // A server span is in error for a 5xx it answered (OpenTelemetry HTTP conventions), not for a 4xx.
  if (record.status >= 500 || (record.failure !== undefined && record.failure !== 'client_closed' && record.failure !== 'status' && record.failure !== 'drained')) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: record.failure })
  }
  span.end()
}
