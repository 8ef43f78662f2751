/**
 * The access log: one line per request, from its own pino logger so that it
 * can go to another destination than the main log (a file, stderr). It
 * listens to the end of every exchange and to every request switchyard
 * refused, and follows the running config: mode, sampling and the query
 * flag apply from the next request, a new destination or format reopens
 * the stream.
 *
 * Fields (absent when unknown): time, requestId, method, host, path,
 * query (with `query: true`), status (0: the client left before any
 * answer), bytesIn/bytesOut (heads included, as nginx's $request_length
 * and $bytes_sent; on HTTP/2 the response body only, see bytesOf), durationMs, upstreamMs (arrival to the upstream's
 * response head, Envoy's %RESPONSE_DURATION%), route, rule, backend (the
 * one that served), version, target, retries, failover, failure, client,
 * userAgent; `rejected` (why) on a request switchyard answered itself.
 * Header values are never logged, so neither are Authorization or Cookie.
 *
 * Lines are pino's (level, time, then the fields; pino-pretty reads them),
 * written to a pino destination, but serialised by the native
 * JSON.stringify: for these twenty fields pino's own serialiser cost about
 * four times as much CPU (string concatenation and the garbage it leaves),
 * on a line written for every request.
 */
import type { Logger } from 'pino'
import type { PrettyOptions } from 'pino-pretty'
import type { ExchangeRecord } from '../proxy/exchange-record.js'
import type { ProxyListener } from '../proxy/forward.js'
import type { Rejection } from '../proxy/rejection.js'
import { bytesOfRequest, type RequestInfo } from '../proxy/request-info.js'
import type { AccessLogSettings } from '../routing/types.js'
import type { ConfigStore } from '../proxy/config-store.js'
import { openLogStream, type LogStream } from './log-streams.js'
import { dirname, resolve } from 'node:path'

/** A pino line at level info: `{"level":30,"time":…,"log":"access",` then the fields (undefined ones left out). */
function lineOf (fields: object): string {
  return `{"level":30,"time":${Date.now()},"log":"access",${JSON.stringify(fields).slice(1)}\n`
}

/** Milliseconds with microsecond precision. */
function ms (value: number): number {
  return Math.round(value * 1000) / 1000
}

/** One line of the pretty format: what a terminal user scans for first. */
function prettyLine (log: Record<string, unknown>): string {
  const str = (v: unknown): string => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '-'
  let line = `${str(log.method)} ${typeof log.host === 'string' ? log.host : ''}${str(log.path)}${typeof log.query === 'string' ? `?${log.query}` : ''} ${str(log.status)} ${str(log.durationMs)}ms`
  if (log.rejected !== undefined) return `${line} rejected=${str(log.rejected)} client=${str(log.client)} id=${str(log.requestId)}`
  line += ` route=${str(log.route)} rule=${str(log.rule)} backend=${str(log.backend)}@${str(log.version)} target=${str(log.target)}`
  if (log.retries !== 0) line += ` retries=${str(log.retries)}`
  if (log.failover === true) line += ' failover'
  if (log.failure !== undefined) line += ` failure=${str(log.failure)}`
  return `${line} client=${str(log.client)} id=${str(log.requestId)}`
}

const PRETTY_ACCESS: PrettyOptions = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,log', hideObject: true, messageFormat: prettyLine }

/** Path and query of a request target; the query only when asked for. */
function splitTarget (target: string | undefined, withQuery: boolean): { path: string | undefined, query: string | undefined } {
  if (target === undefined) return { path: undefined, query: undefined }
  const q = target.indexOf('?')
  if (q === -1) return { path: target, query: undefined }
  return { path: target.slice(0, q), query: withQuery && q + 1 < target.length ? target.slice(q + 1) : undefined }
}

/**
 * Warns when the access log file sits in the config file's directory:
 * switchyard watches that directory for config changes, and a file written
 * on every request there keeps the watcher re-reading it (measured: the
 * proxy's CPU per request tripled). Returns whether it warned.
 */
export function warnAccessLogPlacement (logger: Logger, configPath: string, settings: AccessLogSettings): boolean {
  if (settings.mode === 'off' || settings.destination === 'stdout' || settings.destination === 'stderr') return false
  if (dirname(resolve(settings.destination)) !== dirname(resolve(configPath))) return false
  logger.warn({ accessLog: settings.destination }, 'the access log is written in the config file\'s directory, which switchyard watches: every write makes the watcher re-read the directory; put the access log in another directory')
  return true
}

/**
 * A request's bytes. HTTP/1.1: what the connection read and wrote since its
 * previous request, heads included. HTTP/2 streams share their connection
 * and Node counts nothing per stream, so the connection's counts would be
 * shared out between whichever streams log first: there the line has the
 * response body relayed (`bodyOut`, as Envoy's bytes_sent) and no bytesIn.
 */
function bytesOf (info: RequestInfo, bodyOut: number | undefined): { in: number | undefined, out: number | undefined } {
  if (info.req?.httpVersionMajor === 2) return { in: undefined, out: bodyOut }
  return bytesOfRequest(info.socket)
}

export class AccessLog implements ProxyListener {
  #settings: AccessLogSettings | undefined
  #stream: LogStream | undefined
  /** The stream being closed after a destination change, so that close() can wait for it. */
  #closing: Promise<void> = Promise.resolve()
  /** Uniform in [0, 1): which requests a `sampled` log keeps. */
  readonly #random: () => number

  constructor (random: () => number = Math.random) {
    this.#random = random
  }

  /** Applies the running config's `accessLog` now and on every swap. */
  follow (store: ConfigStore): void {
    if (store.loaded) this.configure(store.current.table.accessLog)
    store.on('swap', next => { this.configure(next.table.accessLog) })
  }

  configure (next: AccessLogSettings): void {
    const prev = this.#settings
    this.#settings = next
    const on = next.mode !== 'off'
    const sameStream = prev !== undefined && prev.mode !== 'off' && prev.destination === next.destination && prev.pretty === next.pretty
    if (on && sameStream) return
    const old = this.#stream
    // Buffered: 8 KiB or 250 ms at a time (see openLogStream).
    this.#stream = on ? openLogStream(next.destination, { sync: false, pretty: next.pretty ? PRETTY_ACCESS : undefined }) : undefined
    if (old !== undefined) this.#closing = Promise.all([this.#closing, old.close()]).then(() => {})
  }

  onExchangeStart (): void {}

  onExchangeEnd (record: ExchangeRecord): void {
    const stream = this.#stream
    if (stream === undefined) return
    const settings = this.#settings as AccessLogSettings
    const info = record.request
    // Counted on every request, logged or not: the next line of the connection starts from here.
    const bytes = bytesOf(info, record.bytesOut)
    const status = record.status
    if (!this.#keep(settings, status >= 400 || status === 0 || record.failure !== undefined)) return
    const { path, query } = splitTarget(info.target, settings.query)
    const d = record.decision
    const upstreamMs = record.upstreamHeaderMs
    stream.write(lineOf({
      requestId: info.id,
      method: record.method,
      host: info.host,
      path,
      query,
      status,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      durationMs: ms(record.durationMs),
      upstreamMs: upstreamMs === undefined ? undefined : ms(upstreamMs),
      route: d.route.name,
      rule: d.rule,
      backend: record.served.name,
      version: record.served.version,
      target: record.target,
      retries: record.retries,
      failover: record.failedOver,
      failure: record.failure,
      client: info.client,
      userAgent: info.userAgent
    }))
  }

  onRejected (rejection: Rejection): void {
    const stream = this.#stream
    if (stream === undefined) return
    const settings = this.#settings as AccessLogSettings
    const info = rejection.request
    const bytes = bytesOf(info, undefined)
    if (!this.#keep(settings, rejection.status >= 400)) return
    const { path, query } = splitTarget(info.target, settings.query)
    stream.write(lineOf({
      requestId: info.id,
      method: info.method,
      host: info.host,
      path,
      query,
      status: rejection.status,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      // Unknown for a request the parser refused: it started before Node handed anything over.
      durationMs: info.req === undefined ? undefined : ms(performance.now() - info.startTime),
      rejected: rejection.reason,
      client: info.client,
      userAgent: info.userAgent
    }))
  }

  #keep (settings: AccessLogSettings, error: boolean): boolean {
    switch (settings.mode) {
      case 'all': return true
      case 'errors': return error
      case 'sampled': return error || this.#random() < settings.sampleRate
      default: return false
    }
  }

  /** Writes what is buffered and closes a file destination. */
  async close (): Promise<void> {
    const stream = this.#stream
    this.#stream = undefined
    await Promise.all([this.#closing, stream?.close()])
  }
}
