/**
 * Everything that watches the proxy: metrics, the error log, the access log
 * and tracing, behind the one listener the data path calls. The access log
 * and tracing follow the running config; close() flushes both.
 */
import type { Logger } from 'pino'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { RetryReason } from '../proxy/failure.js'
import type { ExchangeListener, ProxyListener } from '../proxy/forward.js'
import type { Rejection } from '../proxy/rejection.js'
import type { Backend, Decision } from '../routing/types.js'
import type { ConfigStore } from '../proxy/config-store.js'
import { AccessLog } from './access-log.js'
import { ErrorLog } from './error-log.js'
import { Tracing } from './tracing.js'

/** Calls every listener, in order; each optional hook only on those that have it. */
class FanOut implements ProxyListener {
  readonly #all: readonly ExchangeListener[]
  readonly #rejected: ReadonlyArray<Required<ProxyListener>['onRejected']>
  readonly #retry: ReadonlyArray<Required<ProxyListener>['onRetry']>
  readonly #upgrade: ReadonlyArray<Required<ProxyListener>['onUpgrade']>
  readonly #tunnelClosed: ReadonlyArray<Required<ProxyListener>['onTunnelClosed']>

  constructor (listeners: readonly ProxyListener[]) {
    this.#all = listeners
    this.#rejected = listeners.flatMap(l => l.onRejected === undefined ? [] : [l.onRejected.bind(l)])
    this.#retry = listeners.flatMap(l => l.onRetry === undefined ? [] : [l.onRetry.bind(l)])
    this.#upgrade = listeners.flatMap(l => l.onUpgrade === undefined ? [] : [l.onUpgrade.bind(l)])
    this.#tunnelClosed = listeners.flatMap(l => l.onTunnelClosed === undefined ? [] : [l.onTunnelClosed.bind(l)])
  }

  onExchangeStart (decision: Decision): void {
    for (const l of this.#all) l.onExchangeStart(decision)
  }

  onExchangeEnd (record: ExchangeRecord): void {
    for (const l of this.#all) l.onExchangeEnd(record)
  }

  onRejected (rejection: Rejection): void {
    for (const f of this.#rejected) f(rejection)
  }

  onRetry (decision: Decision, from: Backend, target: string, reason: RetryReason): void {
    for (const f of this.#retry) f(decision, from, target, reason)
  }

  onUpgrade (decision: Decision, served: Backend, code: number): void {
    for (const f of this.#upgrade) f(decision, served, code)
  }

  onTunnelClosed (decision: Decision, served: Backend): void {
    for (const f of this.#tunnelClosed) f(decision, served)
  }
}

export interface ProxyObservers {
  /** The one listener the proxy calls. */
  readonly listener: ProxyListener
  readonly tracing: Tracing
  /** Follows the running config (access log settings, tracing). */
  follow (store: ConfigStore): void
  /** Resolves once the running config's tracer is ready. */
  ready (): Promise<void>
  /** Flushes the access log and the spans still held. */
  close (): Promise<void>
}

export function createProxyObservers (logger: Logger, metrics: ProxyListener | undefined): ProxyObservers {
  const accessLog = new AccessLog()
  const tracing = new Tracing(logger)
  const listeners: ProxyListener[] = [new ErrorLog(logger), accessLog, tracing]
  if (metrics !== undefined) listeners.unshift(metrics)
  return {
    listener: new FanOut(listeners),
    tracing,
    follow (store) {
      accessLog.follow(store)
      tracing.follow(store)
    },
    ready: async () => { await tracing.ready() },
    close: async () => { await Promise.all([accessLog.close(), tracing.close()]) }
  }
}
