/**
 * Optional OpenTelemetry tracing (`tracing.enabled`), off by default and
 * free while off: the OpenTelemetry packages are imported only when a
 * config turns it on, and the request path tests one field (`current`).
 *
 * While off, `traceparent` and `tracestate` pass through to the upstream
 * unchanged, as any header does (Envoy and Traefik without a tracer do the
 * same): a client's trace continues in the backend, switchyard just takes
 * no part in it. A config change that turns tracing on or changes its
 * settings starts a new tracer; the old one exports what it holds and
 * stops.
 */
import type { Logger } from 'pino'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { ProxyListener } from '../proxy/forward.js'
import type { RequestTracer } from '../proxy/tracer.js'
import type { TracingSettings } from '../routing/types.js'
import type { ConfigStore } from '../proxy/config-store.js'

function sameSettings (a: TracingSettings, b: TracingSettings): boolean {
  return a.enabled === b.enabled && a.endpoint === b.endpoint && a.serviceName === b.serviceName && a.sampleRatio === b.sampleRatio
}

export class Tracing implements ProxyListener {
  /** The tracer for new requests; undefined while tracing is off. */
  current: RequestTracer | undefined
  #settings: TracingSettings | undefined
  /** The latest change being applied: requests use the previous tracer until it is done. */
  #applying: Promise<void> = Promise.resolve()
  /** The OpenTelemetry module, once loaded. */
  #otel: typeof import('./otel-tracer.js') | undefined

  constructor (private readonly logger: Logger) {}

  /** Applies the running config's `tracing` now and on every swap. */
  follow (store: ConfigStore): void {
    if (store.loaded) this.configure(store.current.table.tracing)
    store.on('swap', next => { this.configure(next.table.tracing) })
  }

  configure (next: TracingSettings): void {
    if (this.#settings !== undefined && sameSettings(this.#settings, next)) return
    this.#settings = next
    this.#applying = this.#applying.then(async () => {
      const old = this.current
      if (next.enabled) {
        const otel = this.#otel ??= await import('./otel-tracer.js')
        // A later change may have come in while the module loaded: only the latest applies.
        if (this.#settings !== next) return
        this.current = otel.createTracer(next, this.logger)
        this.logger.info({ endpoint: next.endpoint ?? 'from OTEL_EXPORTER_OTLP_* or http://localhost:4318/v1/traces', sampleRatio: next.sampleRatio }, 'tracing on')
      } else {
        this.current = undefined
        if (old !== undefined) this.logger.info('tracing off')
      }
      await old?.shutdown()
    }).catch((err: unknown) => {
      this.logger.error({ err }, 'tracing could not start; requests are not traced')
    })
  }

  /** Resolves once the latest config's tracer is in place (startup waits for it before listening). */
  async ready (): Promise<void> {
    await this.#applying
  }

  onExchangeStart (): void {}

  onExchangeEnd (record: ExchangeRecord): void {
    if (record.request.trace !== undefined) this.#otel?.endSpan(record)
  }

  async close (): Promise<void> {
    await this.#applying
    const last = this.current
    this.current = undefined
    await last?.shutdown()
  }
}
