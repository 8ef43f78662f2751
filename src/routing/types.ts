/**
 * The compiled routing table: everything a request needs, built once per
 * config and frozen. The hot path only reads it.
 */
import type { WeightTable } from './weighted.js'
import type { RawConfig } from '../config/schema.js'

/**
 * What `decide()` may look at in a request. The proxy's implementation reads
 * lazily (cookies and query are parsed only when a rule asks for them);
 * tests build plain objects.
 */
export interface RequestView {
  /** As received, e.g. `GET`. */
  readonly method: string
  /** Host header without port, lowercased; '' when absent. */
  readonly host: string
  /** The path without the query string, as received (not decoded). */
  readonly path: string
  /** `name` must be lowercase. */
  header (name: string): string | undefined
  cookie (name: string): string | undefined
  query (name: string): string | undefined
}

/** The randomness `decide()` uses, injected so that it stays pure. */
export interface Entropy {
  /** Uniform in [0, 1). */
  random (): number
  /** A fresh sticky id for a new user. */
  newId (): string
}

export type Balance = 'round-robin' | 'least-pending'

export interface HealthCheckSpec {
  readonly path: string
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly healthyThreshold: number
  readonly unhealthyThreshold: number
}

export interface OutlierPolicy {
  readonly consecutiveFailures: number
  readonly baseEjectionMs: number
  readonly maxEjectionMs: number
  readonly maxEjectionPercent: number
}

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly attempts: number
  /** Retries may add at most this share to a backend's requests (over the last 1–2 s). */
  readonly budgetPercent: number
  /** Retries per second always allowed, whatever the budget says. */
  readonly minPerSecond: number
}

export interface Backend {
  readonly name: string
  /** Position in `RoutingTable.backends`. */
  readonly index: number
  readonly version: string
  /** Normalised origins, e.g. `http://127.0.0.1:9001`. */
  readonly targets: readonly string[]
  readonly balance: Balance
  readonly connections: number
  readonly keepAliveTimeoutMs: number
  readonly connectTimeoutMs: number
  /** Requests that may wait per target while every connection is busy. */
  readonly maxPending: number
  /** How long one may wait; 0: up to the route's timeout. */
  readonly queueTimeoutMs: number
  /** Index of the fallback backend, used while none of this one's targets is healthy. */
  readonly fallback: number | undefined
  readonly healthCheck: HealthCheckSpec | undefined
  readonly outlier: OutlierPolicy | undefined
  /** How its targets are spoken to: HTTP/1.1, cleartext HTTP/2 (prior knowledge) or HTTP/2 over TLS (ALPN). */
  readonly protocol: UpstreamProtocol
  /** TLS towards https:// targets; undefined: Node's defaults. */
  readonly tls: UpstreamTls | undefined
}

export type UpstreamProtocol = 'http1' | 'h2c' | 'h2'

export interface UpstreamTls {
  /** Path of a PEM CA bundle (read when the pool opens). */
  readonly caFile: string | undefined
  readonly insecure: boolean
  readonly serverName: string | undefined
}

export interface Split {
  /** Every configured entry, weight 0 included (for status and explain). */
  readonly weights: ReadonlyArray<{ readonly backend: Backend, readonly weight: number }>
  readonly table: WeightTable<Backend>
}

export type Destination =
  | { readonly kind: 'to', readonly backend: Backend }
  | { readonly kind: 'split', readonly split: Split }

export type Predicate = (req: RequestView) => boolean

export interface Rule {
  readonly name: string
  readonly matches: Predicate
  readonly destination: Destination
}

export interface Sticky {
  readonly source: 'cookie' | 'header'
  /** Cookie name as configured, or header name lowercased. */
  readonly name: string
  /** `; Max-Age=…; Path=/; HttpOnly; SameSite=Lax` — appended to `name=id`. */
  readonly cookieAttributes: string
}

/** Header changes of one direction for one (route, backend) pair (see routing/header-plans.ts). */
export interface HeaderPlan {
  /** Lowercased names whose incoming values are dropped (`remove` and `set`). */
  readonly drop: ReadonlySet<string>
  /** The lengths of the names in `drop`: a response header name of another length is not lowercased to be looked up. */
  readonly dropLengths: ReadonlySet<number>
  /** [name, value, …] appended after the incoming headers (`set` and `add`). */
  readonly append: readonly string[]
}

export interface Route {
  readonly name: string
  readonly index: number
  /** Host, path and method; undefined when the route matches everything. */
  readonly matches: Predicate | undefined
  readonly rules: readonly Rule[]
  readonly destination: Destination
  readonly sticky: Sticky | undefined
  /** Response headers must arrive within this, counted from the request's arrival; 0: no limit. */
  readonly timeoutMs: number
  /** Gap allowed between two response body chunks. */
  readonly idleTimeoutMs: number
  readonly retry: RetryPolicy | undefined
  /** Removed from the path before it goes upstream, on a segment boundary; undefined: none. */
  readonly stripPrefix: string | undefined
  /** Location headers pointing at the serving target's origin become paths on the client's host (nginx `proxy_redirect default`). */
  readonly rewriteLocation: boolean
  /** Request header changes by backend index (the route's, then the backend's); undefined when there are none. */
  readonly requestHeaders: ReadonlyArray<HeaderPlan | undefined> | undefined
  /** Response header changes by the serving backend's index; undefined when there are none. */
  readonly responseHeaders: ReadonlyArray<HeaderPlan | undefined> | undefined
  /** Larger request bodies get 413; undefined: no limit. */
  readonly maxBodyBytes: number | undefined
  /** gRPC status codes (0–16) counted as errors of the backend, as a 17-slot table. */
  readonly grpcErrorCodes: readonly boolean[]
}

export interface ProxySettings {
  /** Lowercased response header naming the backend, or undefined (off). */
  readonly backendHeader: string | undefined
  readonly trustForwarded: boolean
  /** Lowercased header carrying the request ID (sent upstream and in the response). */
  readonly requestIdHeader: string
  /** Keep the request ID a client sent (when it looks like one). */
  readonly trustRequestId: boolean
}

export type AccessLogMode = 'all' | 'errors' | 'sampled' | 'off'

export interface AccessLogSettings {
  readonly mode: AccessLogMode
  /** `sampled`: the share of requests below 400 logged. */
  readonly sampleRate: number
  /** `stdout`, `stderr` or a file path. */
  readonly destination: string
  readonly query: boolean
  /** Human-readable lines (`log.format: pretty`). */
  readonly pretty: boolean
}

export interface TracingSettings {
  readonly enabled: boolean
  /** OTLP/HTTP traces URL; undefined: the exporter's default (OTEL_EXPORTER_OTLP_* variables). */
  readonly endpoint: string | undefined
  /** undefined: OTEL_SERVICE_NAME, else `switchyard`. */
  readonly serviceName: string | undefined
  /** Share of new traces sampled; incoming traceparents keep their own decision. */
  readonly sampleRatio: number
}

/** Client-facing listener limits and the shutdown drain (take effect at start). */
export interface ServerSettings {
  readonly headersTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxHeaderBytes: number
  readonly maxHeaders: number
  /** Longest silence allowed within a request body; 0: no limit. */
  readonly bodyTimeoutMs: number
  readonly drainDelayMs: number
  readonly shutdownTimeoutMs: number
  /** TLS termination; undefined: cleartext. */
  readonly tls: ListenerTls | undefined
  readonly http2: Http2Settings
}

export interface ListenerTls {
  /** PEM file pairs; the first is the default certificate, the others are chosen by SNI. */
  readonly certificates: ReadonlyArray<{ readonly cert: string, readonly key: string }>
}

export interface Http2Settings {
  readonly enabled: boolean
  readonly maxConcurrentStreams: number
  readonly maxResetsPerSecond: number
  readonly maxSettingsPerSecond: number
  readonly maxPingsPerSecond: number
  readonly maxSessionMemoryMiB: number
  /** gRPC streams on a backend whose weight went to 0 end after this; 0: never. */
  readonly streamDrainGraceMs: number
}

export interface RoutingTable {
  readonly routes: readonly Route[]
  readonly backends: readonly Backend[]
  readonly backendsByName: ReadonlyMap<string, Backend>
  readonly proxy: ProxySettings
  readonly server: ServerSettings
  readonly accessLog: AccessLogSettings
  readonly tracing: TracingSettings
  /** The validated config this table was compiled from (frozen). */
  readonly config: RawConfig
  /** sha256 of the source text (or of the canonical JSON when there is no text). */
  readonly sha256: string
}

/** The outcome of routing one request. */
export interface Decision {
  readonly route: Route
  /** The matched rule's name, or `split` when the route default decided. */
  readonly rule: string
  readonly backend: Backend
  /** A new sticky id to set as a cookie, when the user had none. */
  readonly setStickyId: string | undefined
}
