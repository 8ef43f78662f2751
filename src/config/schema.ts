/**
 * The config file's schema. One source of truth: `npm run build:validators`
 * compiles it with ajv into src/config/generated/validators.ts (so neither
 * ajv's compiler nor TypeBox is loaded at run time: less memory, faster
 * start), and `RawConfig` (its static type) is what the compiler consumes.
 * Every object is closed (`additionalProperties: false`): a typo such as
 * `splt:` must be an error, never silently ignored, since it would change
 * routing. README.md documents every field; keep the two in step.
 */
import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from './defaults.js'
import { GRPC_CODE_NAMES } from '../util/grpc-status.js'

const closed = { additionalProperties: false } as const

const GrpcCode = Type.Union(GRPC_CODE_NAMES.map(c => Type.Literal(c)))

/** Go/Kubernetes/Istio duration: `500ms`, `30s`, `1m30s`, `2h`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'
export const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'duration such as 500ms, 30s, 1m30s' })

/** Names of routes, rules and backends: they become metric label values. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'
const Name = Type.String({ pattern: NAME_PATTERN })

/** RFC 9110 token: a header or cookie name. */
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
const HeaderName = Type.String({ pattern: HEADER_NAME_PATTERN, maxLength: 256 })

/** An HTTP field value (RFC 9110 §5.5): no CR, LF, NUL or other control character; Node refuses the same. */
const HeaderValue = Type.String({ pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$', maxLength: 8192, description: 'header value without control characters (no CR, LF or NUL)' })

/**
 * Changes to the headers of one direction, as Istio's `headers` and
 * Envoy's `*_headers_to_add/remove`: `remove` first, then `set` (replaces
 * every value), then `add` (one more value).
 */
const HeaderChanges = Type.Object({
  set: Type.Optional(Type.Record(HeaderName, HeaderValue, closed)),
  add: Type.Optional(Type.Record(HeaderName, HeaderValue, closed)),
  remove: Type.Optional(Type.Array(HeaderName, { minItems: 1 }))
}, closed)

/** Header changes on the request sent upstream and on the response sent to the client. */
const HeaderRules = Type.Object({
  request: Type.Optional(HeaderChanges),
  response: Type.Optional(HeaderChanges)
}, closed)


const Listener = (defaults: { host: string, port: number }) => Type.Object({
  host: Type.Optional(Type.String({ minLength: 1, default: defaults.host })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: defaults.port }))
}, closed)

/** The proxy listener has the client-facing limits too. */
const ProxyListener = Type.Object({
  host: Type.Optional(Type.String({ minLength: 1, default: DEFAULT_LISTEN.host })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_LISTEN.port })),
  /** A client must send its whole request head within this time, else 408 (slow-loris guard; default 30s). */
  headersTimeout: Type.Optional(Duration),
  /** Idle client keep-alive connections are closed after this (default 72s, above common load balancers' 60s). */
  keepAliveTimeout: Type.Optional(Duration),
  /** Request line + headers larger than this get 431 (default 16384 bytes). */
  maxHeaderBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 * 1024 })),
  /** More header fields than this get 431 (default 100). */
  maxHeaders: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /**
   * A client sending a request body must send some of it at least this
   * often, else 408 and the connection is closed (nginx `client_body_timeout`;
   * default 60s, `0s` turns it off).
   */
  bodyTimeout: Type.Optional(Duration),
  /** TLS termination on this listener; ALPN offers h2 and http/1.1 on the same port. */
  tls: Type.Optional(Type.Object({
    /**
     * Certificate and key files (PEM). The first is the default; the others
     * are chosen by SNI against their DNS names. Reloaded when the files
     * change (cert-manager rotating a mounted Secret), without a restart.
     */
    certificates: Type.Array(Type.Object({
      cert: Type.String({ minLength: 1, maxLength: 4096 }),
      key: Type.String({ minLength: 1, maxLength: 4096 })
    }, closed), { minItems: 1, maxItems: 1000 })
  }, closed)),
  /** HTTP/2 from clients: h2 (by ALPN) with tls, h2c prior knowledge beside HTTP/1.1 without. */
  http2: Type.Optional(Type.Object({
    /** Off: HTTP/1.1 only, as before (default on). */
    enabled: Type.Optional(Type.Boolean()),
    /** Streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS; default 100). */
    maxConcurrentStreams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    /**
     * Streams a client may reset (RST_STREAM) per connection per second
     * before the connection is closed with GOAWAY ENHANCE_YOUR_CALM (rapid
     * reset, CVE-2023-44487; default 200).
     */
    maxResetsPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /**
     * SETTINGS frames a client may send per connection per second before
     * the connection is closed with GOAWAY ENHANCE_YOUR_CALM (a SETTINGS
     * flood; default 100: a client sends a few per connection).
     */
    maxSettingsPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** PING frames a client may send per connection per second, likewise (a PING flood; default 1000). */
    maxPingsPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** Memory one connection may use for its frames and header tables, in MiB (default 10). */
    maxSessionMemoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /**
     * A gRPC call still streaming on a backend whose weight went to 0 (or
     * whose route or rule left the config) is ended with UNAVAILABLE after
     * this grace period, so that the client calls again and lands by the new
     * weights (default 30s; 0s: never).
     */
    streamDrainGrace: Type.Optional(Duration)
  }, closed))
}, closed)

const Shutdown = Type.Object({
  /** After SIGTERM: keep serving this long while /readyz says 503, so that endpoints stop sending (default 5s). */
  drainDelay: Type.Optional(Duration),
  /** Then: how long requests in flight may take to finish before connections are closed (default 25s). */
  timeout: Type.Optional(Duration)
}, closed)

/**
 * A condition on one string value (a header, cookie, query parameter).
 * Exactly one operator; `regex` is a search (unanchored), as in nginx —
 * anchor it with ^…$ for a full match.
 */
export const StringMatch = Type.Object({
  exact: Type.Optional(Type.String()),
  prefix: Type.Optional(Type.String()),
  suffix: Type.Optional(Type.String()),
  regex: Type.Optional(Type.String()),
  in: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  present: Type.Optional(Type.Boolean())
}, { ...closed, minProperties: 1, maxProperties: 1 })

const Conditions = Type.Object({
  headers: Type.Optional(Type.Record(HeaderName, StringMatch, closed)),
  cookies: Type.Optional(Type.Record(HeaderName, StringMatch, closed)),
  query: Type.Optional(Type.Record(Type.String({ pattern: '^.+$' }), StringMatch, closed)),
  userAgent: Type.Optional(StringMatch)
}, closed)

/** Backend name → non-negative integer weight; any total. */
export const Split = Type.Record(Name, Type.Integer({ minimum: 0, maximum: 1_000_000 }), { ...closed, minProperties: 1 })

const Rule = Type.Object({
  name: Name,
  when: Conditions,
  to: Type.Optional(Name),
  split: Type.Optional(Split)
}, closed)

const PathMatch = Type.Object({
  prefix: Type.Optional(Type.String({ pattern: '^/' })),
  exact: Type.Optional(Type.String({ pattern: '^/' })),
  regex: Type.Optional(Type.String())
}, { ...closed, minProperties: 1, maxProperties: 1 })

const Method = Type.String({ pattern: '^[A-Za-z]+$' })
const HostPattern = Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]+)?$' })

const RouteMatch = Type.Object({
  host: Type.Optional(Type.Union([HostPattern, Type.Array(HostPattern, { minItems: 1 })])),
  path: Type.Optional(PathMatch),
  methods: Type.Optional(Type.Array(Method, { minItems: 1 }))
}, closed)

const Sticky = Type.Object({
  cookie: Type.Optional(HeaderName),
  header: Type.Optional(HeaderName),
  /** Max-Age of a created cookie. */
  maxAge: Type.Optional(Duration),
  path: Type.Optional(Type.String({ pattern: '^/[^;\\s]*$' })),
  domain: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+$' })),
  secure: Type.Optional(Type.Boolean())
}, closed)

const Retries = Type.Object({
  /** Attempts after the first (default 2). */
  attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  /** Retries to a backend over the last second or two may add at most this share of its requests (default 20). */
  budgetPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  /** …but this many per second are always allowed (default 10), so a quiet backend can still retry. */
  minPerSecond: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 }))
}, closed)

const Route = Type.Object({
  name: Name,
  match: Type.Optional(RouteMatch),
  rules: Type.Optional(Type.Array(Rule)),
  to: Type.Optional(Name),
  split: Type.Optional(Split),
  sticky: Type.Optional(Sticky),
  /** Time allowed for the upstream's response headers. */
  timeout: Type.Optional(Duration),
  /** Time allowed between two chunks of the upstream's response body (default: `timeout`). */
  idleTimeout: Type.Optional(Duration),
  /** Retries on another target; `false` turns them off. */
  retries: Type.Optional(Type.Union([Type.Literal(false), Retries])),
  /** Header changes for this route's requests and responses (before the backend's own). */
  headers: Type.Optional(HeaderRules),
  /** Removed from the path before it goes upstream (`/api/users` → `/users`), on a segment boundary. */
  stripPrefix: Type.Optional(Type.String({ pattern: '^(/[^/?#\\s]+)+$', maxLength: 1024, description: 'path prefix such as /api (no trailing slash, no query)' })),
  /**
   * nginx's `proxy_redirect default` (on unless `false`): a `Location`
   * pointing at the serving target's own origin becomes a path on the
   * client's host, with `stripPrefix` put back.
   */
  rewriteLocation: Type.Optional(Type.Boolean()),
  /** Request bodies larger than this many bytes get 413 (default: no limit; bodies are streamed, never held in memory). */
  maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  /** gRPC requests of this route (content-type application/grpc…). */
  grpc: Type.Optional(Type.Object({
    /**
     * The gRPC status codes counted as the backend's errors (metrics
     * `grpc_error="true"`, the shipped rules, ramp and the judge). Default:
     * UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNIMPLEMENTED,
     * INTERNAL, UNAVAILABLE, DATA_LOSS.
     */
    errorCodes: Type.Optional(Type.Array(GrpcCode, { uniqueItems: true }))
  }, closed))
}, closed)

const TargetUrl = Type.String({ minLength: 1 })

/** How switchyard talks to a backend's targets. */
const UpstreamTls = Type.Object({
  /** PEM bundle of the CAs that sign the targets' certificates (default: Node's built-in roots). */
  ca: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** Accept any certificate (test setups only): must be said explicitly. */
  insecure: Type.Optional(Type.Boolean()),
  /** The name checked against the certificate and sent as SNI (default: the target's host). */
  serverName: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+$', maxLength: 253 }))
}, closed)

const HealthCheck = Type.Object({
  /** GET this path on every target; 2xx/3xx is a pass. */
  path: Type.String({ pattern: '^/' }),
  interval: Type.Optional(Duration),
  timeout: Type.Optional(Duration),
  /** Consecutive passes that make an unhealthy target healthy again (default 2). */
  healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /** Consecutive failures that make a target unhealthy (default 3). */
  unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 }))
}, closed)

const OutlierDetection = Type.Object({
  /** Consecutive connection failures or 5xx answers that eject a target (default 5). */
  consecutiveFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  /** First ejection time; the n-th ejection in a row lasts n times as long (default 30s). */
  baseEjectionTime: Type.Optional(Duration),
  /** Upper bound of an ejection (default 300s). */
  maxEjectionTime: Type.Optional(Duration),
  /**
   * At most this share of a backend's targets is ejected for 5xx answers
   * (default 50). Targets that refuse connections are taken out regardless:
   * sending traffic to them cannot help.
   */
  maxEjectionPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 }))
}, closed)

const Backend = Type.Object({
  /** The application version this backend runs; shown in metrics and the demo page. */
  version: Type.Optional(Type.String({ maxLength: 64 })),
  targets: Type.Array(TargetUrl, { minItems: 1 }),
  balance: Type.Optional(Type.Union([Type.Literal('round-robin'), Type.Literal('least-pending')])),
  /** Upstream keep-alive pool per target. */
  connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  keepAliveTimeout: Type.Optional(Duration),
  /** Time allowed to open a connection to a target (default 5s). */
  connectTimeout: Type.Optional(Duration),
  /**
   * Requests that may wait for a connection, per target, while all
   * `connections` are busy; one more gets 503 at once (Envoy
   * `max_pending_requests`; default 1024, 0: none may wait).
   */
  maxPending: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  /** How long a request may wait for a connection before 504 (HAProxy `timeout queue`; default: `connectTimeout`, `0s`: up to the route's timeout). */
  queueTimeout: Type.Optional(Duration),
  /** Where this backend's traffic goes while none of its targets is healthy. */
  fallback: Type.Optional(Name),
  healthCheck: Type.Optional(HealthCheck),
  /** Passive ejection of failing targets; `false` turns it off. */
  outlierDetection: Type.Optional(Type.Union([Type.Literal(false), OutlierDetection])),
  /** Header changes for requests sent to and responses from this backend (after the route's). */
  headers: Type.Optional(HeaderRules),
  /**
   * `http1` (default), `h2c` (cleartext HTTP/2 with prior knowledge, http://
   * targets) or `h2` (HTTP/2 over TLS, https:// targets). gRPC backends need
   * h2c or h2.
   */
  protocol: Type.Optional(Type.Union([Type.Literal('http1'), Type.Literal('h2c'), Type.Literal('h2')])),
  /** TLS towards https:// targets. */
  tls: Type.Optional(UpstreamTls)
}, closed)

const Log = Type.Object({
  level: Type.Optional(Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
  ])),
  /** `json` (default): one JSON object a line. `pretty`: coloured lines for a terminal (also for the access log). */
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('pretty')]))
}, closed)

/** One line per request, from its own logger (so it can go elsewhere than the main log). */
const AccessLog = Type.Object({
  /**
   * `all` (default once the section is present), `errors` (status 400 and
   * above, or no response), `sampled` (errors and a `sampleRate` share of
   * the rest), `off`.
   */
  mode: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('errors'), Type.Literal('sampled'), Type.Literal('off')])),
  /** With `mode: sampled`, the share of requests below 400 that are logged (default 0.01). */
  sampleRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** `stdout` (default), `stderr`, or a file path (appended to; relative to the working directory). */
  destination: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** Log the query string too (off by default: queries often carry tokens). */
  query: Type.Optional(Type.Boolean())
}, closed)

/** OpenTelemetry spans over OTLP/HTTP (JSON); off unless `enabled`. */
const Tracing = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  /** The OTLP/HTTP traces URL; default from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, else http://localhost:4318/v1/traces. */
  endpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'URL starting with http:// or https://' })),
  /** `service.name` of the spans (default: OTEL_SERVICE_NAME, else `switchyard`). */
  serviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  /** Share of new traces recorded; a request that carries a traceparent follows its sampled flag (default 1). */
  sampleRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 }))
}, closed)

/** Request IDs: kept from a trusted client, generated otherwise; sent upstream and in the response. */
const RequestId = Type.Object({
  /** The header carrying it (default `x-request-id`). */
  header: Type.Optional(HeaderName),
  /** Keep the ID a client sent (default: `proxy.trustForwarded`). */
  trust: Type.Optional(Type.Boolean())
}, closed)

const Proxy = Type.Object({
  /** When set, responses carry this header naming the backend that served. Off by default. */
  backendHeader: Type.Optional(HeaderName),
  /**
   * Trust X-Forwarded-Proto/-Host, X-Real-IP and Forwarded sent by the
   * client (behind another proxy). Off: switchyard sets X-Forwarded-* and
   * X-Real-IP from what it sees and drops the client's Forwarded.
   */
  trustForwarded: Type.Optional(Type.Boolean()),
  requestId: Type.Optional(RequestId)
}, closed)

export const ConfigSchema = Type.Object({
  listen: Type.Optional(ProxyListener),
  admin: Type.Optional(Listener(DEFAULT_ADMIN)),
  log: Type.Optional(Log),
  accessLog: Type.Optional(AccessLog),
  tracing: Type.Optional(Tracing),
  proxy: Type.Optional(Proxy),
  shutdown: Type.Optional(Shutdown),
  /** How many revisions the history keeps (like a Deployment's revisionHistoryLimit). */
  revisionHistoryLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  backends: Type.Record(Name, Backend, { ...closed, minProperties: 1 }),
  routes: Type.Array(Route, { minItems: 1 })
}, closed)

export type RawConfig = Static<typeof ConfigSchema>
export type RawRoute = Static<typeof Route>
export type RawRule = Static<typeof Rule>
export type RawBackend = Static<typeof Backend>
export type RawStringMatch = Static<typeof StringMatch>
export type RawSplit = Static<typeof Split>
export type RawSticky = Static<typeof Sticky>
export type RawHealthCheck = Static<typeof HealthCheck>
export type RawOutlierDetection = Static<typeof OutlierDetection>
export type RawRetries = Static<typeof Retries>
export type RawHeaderRules = Static<typeof HeaderRules>
export type RawHeaderChanges = Static<typeof HeaderChanges>
export type RawAccessLog = Static<typeof AccessLog>
export type RawTracing = Static<typeof Tracing>
export type RawListen = Static<typeof ProxyListener>
