/**
 * RawConfig (validated) → RoutingTable. Everything that can be done once is
 * done here: backends resolved to objects, weights turned into tables,
 * conditions into predicates, defaults applied, durations parsed. The result
 * is frozen; a config change builds a new table and swaps it in whole.
 */
import { DEFAULT_GRPC_ERROR_CODES, GRPC_CODE_NAMES } from '../util/grpc-status.js'
import type { RawListen, RawConfig, RawHeaderRules, RawHealthCheck, RawOutlierDetection, RawRetries, RawRoute, RawRule, RawSplit, RawSticky } from '../config/schema.js'
import { serialize as serializeCookie } from 'cookie'
import { cookieOptions } from '../config/sticky-cookie.js'
import { parseDuration } from '../util/duration.js'
import { buildWeightTable } from './weighted.js'
import { compileRoutePlans } from './header-plans.js'
import { reachableBackends } from './reachable.js'
import { allOf, compileCondition, compileHostMatch, compileMethodMatch, compilePathMatch } from './matchers.js'
import type { AccessLogSettings, Backend, Destination, HealthCheckSpec, OutlierPolicy, Predicate, RetryPolicy, Route, Rule, RoutingTable, ServerSettings, Sticky, TracingSettings, Http2Settings } from './types.js'

export const DEFAULTS = {
  timeout: '30s',
  stickyMaxAge: '720h',
  balance: 'round-robin',
  connections: 128,
  keepAliveTimeout: '60s',
  connectTimeout: '5s',
  maxPending: 1024,
  healthCheck: { interval: '5s', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 3 },
  outlierDetection: { consecutiveFailures: 5, baseEjectionTime: '30s', maxEjectionTime: '300s', maxEjectionPercent: 50 },
  retries: { attempts: 2, budgetPercent: 20, minPerSecond: 10 },
  server: { headersTimeout: '30s', keepAliveTimeout: '72s', maxHeaderBytes: 16 * 1024, maxHeaders: 100, bodyTimeout: '60s' },
  http2: { maxConcurrentStreams: 100, maxResetsPerSecond: 200, maxSettingsPerSecond: 100, maxPingsPerSecond: 1000, maxSessionMemoryMiB: 10, streamDrainGrace: '30s' },
  shutdown: { drainDelay: '5s', timeout: '25s' },
  requestIdHeader: 'x-request-id',
  accessLog: { mode: 'all', sampleRate: 0.01, destination: 'stdout' },
  tracing: { sampleRatio: 1 }
} as const

function compileHealthCheck (h: RawHealthCheck | undefined): HealthCheckSpec | undefined {
  if (h === undefined) return undefined
  const d = DEFAULTS.healthCheck
  return Object.freeze({
    path: h.path,
    intervalMs: parseDuration(h.interval ?? d.interval),
    timeoutMs: parseDuration(h.timeout ?? d.timeout),
    healthyThreshold: h.healthyThreshold ?? d.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold ?? d.unhealthyThreshold
  })
}

function compileOutlier (o: RawOutlierDetection | false | undefined): OutlierPolicy | undefined {
  if (o === false) return undefined
  const d = DEFAULTS.outlierDetection
  return Object.freeze({
    consecutiveFailures: o?.consecutiveFailures ?? d.consecutiveFailures,
    baseEjectionMs: parseDuration(o?.baseEjectionTime ?? d.baseEjectionTime),
    maxEjectionMs: parseDuration(o?.maxEjectionTime ?? d.maxEjectionTime),
    maxEjectionPercent: o?.maxEjectionPercent ?? d.maxEjectionPercent
  })
}

function compileRetry (r: RawRetries | false | undefined): RetryPolicy | undefined {
  if (r === false) return undefined
  const d = DEFAULTS.retries
  const policy = { attempts: r?.attempts ?? d.attempts, budgetPercent: r?.budgetPercent ?? d.budgetPercent, minPerSecond: r?.minPerSecond ?? d.minPerSecond }
  return policy.attempts === 0 ? undefined : Object.freeze(policy)
}

function compileBackends (config: RawConfig): Backend[] {
  const names = Object.keys(config.backends)
  return Object.entries(config.backends).map(([name, b], index) => Object.freeze({
    name,
    index,
    version: b.version ?? name,
    targets: Object.freeze(b.targets.map(t => new URL(t).origin)),
    balance: b.balance ?? DEFAULTS.balance,
    connections: b.connections ?? DEFAULTS.connections,
    keepAliveTimeoutMs: parseDuration(b.keepAliveTimeout ?? DEFAULTS.keepAliveTimeout),
    connectTimeoutMs: parseDuration(b.connectTimeout ?? DEFAULTS.connectTimeout),
    maxPending: b.maxPending ?? DEFAULTS.maxPending,
    queueTimeoutMs: parseDuration(b.queueTimeout ?? b.connectTimeout ?? DEFAULTS.connectTimeout),
    fallback: b.fallback === undefined ? undefined : names.indexOf(b.fallback),
    healthCheck: compileHealthCheck(b.healthCheck),
    outlier: compileOutlier(b.outlierDetection),
    protocol: b.protocol ?? 'http1',
    tls: b.tls === undefined ? undefined : Object.freeze({ caFile: b.tls.ca, insecure: b.tls.insecure ?? false, serverName: b.tls.serverName })
  }))
}

function compileServer (config: RawConfig): ServerSettings {
  const l = config.listen
  const d = DEFAULTS.server
  return Object.freeze({
    headersTimeoutMs: parseDuration(l?.headersTimeout ?? d.headersTimeout),
    keepAliveTimeoutMs: parseDuration(l?.keepAliveTimeout ?? d.keepAliveTimeout),
    maxHeaderBytes: l?.maxHeaderBytes ?? d.maxHeaderBytes,
    maxHeaders: l?.maxHeaders ?? d.maxHeaders,
    bodyTimeoutMs: parseDuration(l?.bodyTimeout ?? d.bodyTimeout),
    drainDelayMs: parseDuration(config.shutdown?.drainDelay ?? DEFAULTS.shutdown.drainDelay),
    shutdownTimeoutMs: parseDuration(config.shutdown?.timeout ?? DEFAULTS.shutdown.timeout),
    tls: l?.tls === undefined ? undefined : Object.freeze({ certificates: Object.freeze(l.tls.certificates.map(c => Object.freeze({ cert: c.cert, key: c.key }))) }),
    http2: compileHttp2(l?.http2)
  })
}

function compileHttp2 (h: RawListen['http2']): Http2Settings {
  const d = DEFAULTS.http2
  return Object.freeze({
    enabled: h?.enabled ?? true,
    maxConcurrentStreams: h?.maxConcurrentStreams ?? d.maxConcurrentStreams,
    maxResetsPerSecond: h?.maxResetsPerSecond ?? d.maxResetsPerSecond,
    maxSettingsPerSecond: h?.maxSettingsPerSecond ?? d.maxSettingsPerSecond,
    maxPingsPerSecond: h?.maxPingsPerSecond ?? d.maxPingsPerSecond,
    maxSessionMemoryMiB: h?.maxSessionMemoryMiB ?? d.maxSessionMemoryMiB,
    streamDrainGraceMs: parseDuration(h?.streamDrainGrace ?? d.streamDrainGrace)
  })
}

/** The route's gRPC error codes as a table indexed by code. */
function compileGrpcErrorCodes (codes: readonly string[] | undefined): readonly boolean[] {
  const set = new Set<string>(codes ?? DEFAULT_GRPC_ERROR_CODES)
  return Object.freeze(GRPC_CODE_NAMES.map(name => set.has(name)))
}

function compileAccessLog (config: RawConfig): AccessLogSettings {
  const a = config.accessLog
  const d = DEFAULTS.accessLog
  return Object.freeze({
    // Off unless the section is there (today's behaviour: no access log).
    mode: a === undefined ? 'off' : a.mode ?? d.mode,
    sampleRate: a?.sampleRate ?? d.sampleRate,
    destination: a?.destination ?? d.destination,
    query: a?.query ?? false,
    pretty: config.log?.format === 'pretty'
  })
}

function compileTracing (config: RawConfig): TracingSettings {
  const t = config.tracing
  const d = DEFAULTS.tracing
  return Object.freeze({
    enabled: t?.enabled ?? false,
    endpoint: t?.endpoint,
    serviceName: t?.serviceName,
    sampleRatio: t?.sampleRatio ?? d.sampleRatio
  })
}

function backendOf (byName: ReadonlyMap<string, Backend>, name: string): Backend {
  const b = byName.get(name)
  if (b === undefined) throw new RangeError(`unknown backend ${JSON.stringify(name)}`) // validate() rules this out
  return b
}

function compileDestination (byName: ReadonlyMap<string, Backend>, to: string | undefined, split: RawSplit | undefined): Destination {
  if (to !== undefined) return Object.freeze({ kind: 'to', backend: backendOf(byName, to) })
  if (split === undefined) throw new RangeError('destination without `to` or `split`') // validate() rules this out
  const weights = Object.entries(split).map(([name, weight]) => Object.freeze({ backend: backendOf(byName, name), weight }))
  const table = buildWeightTable(weights.map(w => ({ item: w.backend, name: w.backend.name, weight: w.weight })))
  return Object.freeze({ kind: 'split', split: Object.freeze({ weights: Object.freeze(weights), table: Object.freeze(table) }) })
}

function compileRule (byName: ReadonlyMap<string, Backend>, rule: RawRule): Rule {
  const preds: Predicate[] = []
  const w = rule.when
  for (const [name, m] of Object.entries(w.headers ?? {})) preds.push(compileCondition('header', name, m))
  if (w.userAgent !== undefined) preds.push(compileCondition('header', 'user-agent', w.userAgent))
  for (const [name, m] of Object.entries(w.cookies ?? {})) preds.push(compileCondition('cookie', name, m))
  for (const [name, m] of Object.entries(w.query ?? {})) preds.push(compileCondition('query', name, m))
  return Object.freeze({ name: rule.name, matches: allOf(preds), destination: compileDestination(byName, rule.to, rule.split) })
}

function compileSticky (s: RawSticky | undefined): Sticky | undefined {
  if (s === undefined) return undefined
  if (s.header !== undefined) return Object.freeze({ source: 'header', name: s.header.toLowerCase(), cookieAttributes: '' })
  const name = s.cookie ?? 'sy_id'
  // Written by `cookie` once per config; the data path appends them to `name=id`. validate() refused what it would not write.
  const attrs = serializeCookie(name, '', cookieOptions(s, Math.floor(parseDuration(s.maxAge ?? DEFAULTS.stickyMaxAge) / 1000))).slice(name.length + 1)
  return Object.freeze({ source: 'cookie', name, cookieAttributes: attrs })
}

function compileRouteMatch (route: RawRoute): Predicate | undefined {
  const m = route.match
  if (m === undefined) return undefined
  const preds: Predicate[] = []
  if (m.host !== undefined) preds.push(compileHostMatch(typeof m.host === 'string' ? [m.host] : m.host))
  if (m.path !== undefined && m.path.prefix !== '/') preds.push(compilePathMatch(m.path))
  if (m.methods !== undefined) preds.push(compileMethodMatch(m.methods))
  return preds.length === 0 ? undefined : allOf(preds)
}

function compileRoute (r: RawRoute, index: number, backends: readonly Backend[], byName: ReadonlyMap<string, Backend>, backendRules: ReadonlyArray<RawHeaderRules | undefined>): Route {
  const rules = Object.freeze((r.rules ?? []).map(rule => compileRule(byName, rule)))
  const destination = compileDestination(byName, r.to, r.split)
  const plans = compileRoutePlans(r.headers, backendRules, reachableBackends({ destination, rules }, backends))
  return Object.freeze({
    name: r.name,
    index,
    matches: compileRouteMatch(r),
    rules,
    destination,
    sticky: compileSticky(r.sticky),
    timeoutMs: parseDuration(r.timeout ?? DEFAULTS.timeout),
    idleTimeoutMs: parseDuration(r.idleTimeout ?? r.timeout ?? DEFAULTS.timeout),
    retry: compileRetry(r.retries),
    stripPrefix: r.stripPrefix,
    rewriteLocation: r.rewriteLocation ?? true,
    requestHeaders: plans.request,
    responseHeaders: plans.response,
    maxBodyBytes: r.maxBodyBytes,
    grpcErrorCodes: compileGrpcErrorCodes(r.grpc?.errorCodes)
  })
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** Compiles a validated config. Throws only on input validate() would have rejected. */
export function compile (config: RawConfig, sha256: string): RoutingTable {
  const backends = compileBackends(config)
  const byName = new Map(backends.map(b => [b.name, b]))
  const backendRules = Object.values(config.backends).map(b => b.headers)
  const routes = config.routes.map((r, index) => compileRoute(r, index, backends, byName, backendRules))
  return Object.freeze({
    routes: Object.freeze(routes),
    backends: Object.freeze(backends),
    backendsByName: byName,
    proxy: Object.freeze({
      backendHeader: config.proxy?.backendHeader?.toLowerCase(),
      trustForwarded: config.proxy?.trustForwarded ?? false,
      requestIdHeader: (config.proxy?.requestId?.header ?? DEFAULTS.requestIdHeader).toLowerCase(),
      trustRequestId: config.proxy?.requestId?.trust ?? config.proxy?.trustForwarded ?? false
    }),
    server: compileServer(config),
    accessLog: compileAccessLog(config),
    tracing: compileTracing(config),
    config: deepFreeze(structuredClone(config)),
    sha256
  })
}


