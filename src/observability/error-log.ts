/**
 * Errors switchyard produced, on the main log at `warn` with their cause,
 * whether or not the access log is on: a 502/503/504 it answered, a
 * response cut mid-body, a request the parser or the proxy refused (400,
 * 408, 413, 414, 431, …). An upstream's own 5xx is the upstream's answer,
 * not an error of the proxy, and a client that leaves is routine: both only
 * at `debug`, as are a request no route matches and `OPTIONS *`.
 */
import type { Logger } from 'pino'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { FailureKind } from '../proxy/failure.js'
import type { ProxyListener } from '../proxy/forward.js'
import type { Rejection } from '../proxy/rejection.js'

const FAILURE_MESSAGES: Readonly<Record<FailureKind, string>> = {
  connect: 'upstream connection failed',
  timeout: 'upstream timed out',
  reset: 'upstream connection reset',
  other: 'upstream request failed',
  no_target: 'no healthy target for the backend or its fallbacks',
  queue_full: 'upstream queue full',
  queue_timeout: 'no upstream connection free in time',
  client_timeout: 'client sent nothing of its request body in time',
  body_too_large: 'request body over the route\'s limit',
  status: 'upstream answered with a server error',
  client_closed: 'client closed the connection before the response was complete',
  drained: 'gRPC stream ended (UNAVAILABLE): its backend no longer takes this traffic'
}

export class ErrorLog implements ProxyListener {
  constructor (private readonly logger: Logger) {}

  onExchangeStart (): void {}

  onExchangeEnd (record: ExchangeRecord): void {
    const failure = record.failure
    if (failure === undefined) return
    const routine = failure === 'status' || failure === 'client_closed' || failure === 'drained'
    if (routine && !this.logger.isLevelEnabled('debug')) return
    const info = record.request
    const fields = {
      requestId: info.id,
      method: record.method,
      path: info.path,
      route: record.decision.route.name,
      backend: record.served.name,
      target: record.target,
      status: record.status,
      failure,
      cause: record.cause,
      retries: record.retries,
      // Headers already sent: the client got a truncated body and a cut connection.
      midResponse: record.headersForwarded && !routine ? true : undefined
    }
    if (routine) this.logger.debug(fields, FAILURE_MESSAGES[failure])
    else this.logger.warn(fields, record.headersForwarded ? `${FAILURE_MESSAGES[failure]} mid-response; client connection cut` : FAILURE_MESSAGES[failure])
  }

  onRejected (rejection: Rejection): void {
    const info = rejection.request
    const fields = {
      requestId: info.id,
      client: info.client,
      method: info.method,
      path: info.path,
      status: rejection.status,
      reason: rejection.reason,
      cause: rejection.cause
    }
    // No route and `OPTIONS *` (a ping of switchyard) are answers, not errors.
    if (rejection.reason === 'no_route' || rejection.reason === 'options_asterisk') this.logger.debug(fields, rejection.message)
    else this.logger.warn(fields, `request refused: ${rejection.message}`)
  }
}
