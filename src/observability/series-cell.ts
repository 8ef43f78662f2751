/**
 * The plain-number accumulators behind the proxy's metrics, one cell per
 * (route, backend, version). Recording a request touches only numbers in
 * objects that already exist: no label objects, no strings, no prom-client
 * call. prom-client's labelled children still build a hash string from the
 * label values on every inc() and observe() (about 0.4 µs each, measured on
 * 15.1), so the data path keeps its own counts and the registry reads them
 * when it is scraped (request-metrics.ts).
 */
import { QUEUE_FAILURES, RETRY_REASONS, UPSTREAM_FAILURES, type UpstreamFailure } from '../proxy/failure.js'

/** The method label's values; anything else is `OTHER`, so a client cannot mint series. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'OTHER'] as const
const OTHER_METHOD = 7

export function methodIndex (method: string | undefined): number {
  switch (method) {
    case 'GET': return 0
    case 'HEAD': return 1
    case 'POST': return 2
    case 'PUT': return 3
    case 'DELETE': return 4
    case 'PATCH': return 5
    case 'OPTIONS': return 6
    default: return OTHER_METHOD
  }
}

/**
 * Upper bounds in seconds, 1 ms to 10 s, at most 2.5× apart: a web request's
 * p50 and p99 each fall between two close bounds, so histogram_quantile()'s
 * linear interpolation inside one bucket stays within that bucket's width.
 */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The code label when the client went away before any response head (nginx's convention). */
export const CLIENT_CLOSED_CODE = 499

/** Something a counter child can be told to add. */
export interface Incrementable {
  inc (value: number): void
}

/** A count, and how much of it has been handed to the registry's counter. */
export class Tally {
  value = 0
  flushed = 0
  /** The prom-client child this tally feeds, created at its first scrape. */
  child: Incrementable | undefined
}

export class MethodCodeTally extends Tally {
  constructor (
    readonly method: number,
    readonly code: number,
    /** The gRPC status (0–16), or -1 for a request that is not gRPC. */
    readonly grpc: number = -1,
    /** The gRPC status counts as the backend's error under the route's `grpc.errorCodes`. */
    readonly grpcError: boolean = false
  ) {
    super()
  }
}

/** Requests decided by one rule (or `split`), by method, status code and (gRPC) status. */
export class RuleCounts {
  /** Keyed by `((code * 8 + method index) * 18 + grpc + 1) * 2 + error`: one number, no string. */
  readonly byMethodCode = new Map<number, MethodCodeTally>()

  constructor (readonly rule: string) {}

  add (method: number, code: number, grpc = -1, grpcError = false): void {
    const key = (((code * 8 + method) * 18) + grpc + 1) * 2 + (grpcError ? 1 : 0)
    let t = this.byMethodCode.get(key)
    if (t === undefined) {
      t = new MethodCodeTally(method, code, grpc, grpcError)
      this.byMethodCode.set(key, t)
    }
    t.value++
  }
}

/** A duration histogram's counts (observations per bucket, not cumulative; the last slot is above the largest bound). */
export class Durations {
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1)
  durationSum = 0
  durationCount = 0

  observe (seconds: number): void {
    const bounds = DURATION_BUCKETS
    const n = bounds.length
    let i = 0
    while (i < n && seconds > (bounds[i] as number)) i++
    this.buckets[i]!++
    this.durationSum += seconds
    this.durationCount++
  }
}

/** Adds one to tally `index` of `key`'s `n` tallies, created on first use. */
function countAt<K> (tallies: Map<K, readonly Tally[]>, key: K, n: number, index: number): void {
  let t = tallies.get(key)
  if (t === undefined) {
    t = Array.from({ length: n }, () => new Tally())
    tallies.set(key, t)
  }
  t[index]!.value++
}

/** Adds one to the tally of `key`, created on first use. */
function countIn<K> (tallies: Map<K, Tally>, key: K): void {
  let t = tallies.get(key)
  if (t === undefined) {
    t = new Tally()
    tallies.set(key, t)
  }
  t.value++
}

export class SeriesCell extends Durations {
  inFlight = 0
  /** Durations of gRPC calls by their status (0–16); the inherited counts are the other requests'. */
  readonly grpcDurations = new Map<number, Durations>()
  /** New users given a sticky cookie for this backend. */
  readonly stickyAssignments = new Tally()
  readonly byRule = new Map<string, RuleCounts>()
  /** Per target origin, one tally per kind, indexed like UPSTREAM_FAILURES. */
  readonly upstreamErrors = new Map<string, readonly Tally[]>()
  /** Per target origin, requests answered while waiting for a connection, indexed like QUEUE_FAILURES. */
  readonly queueRejections = new Map<string, readonly Tally[]>()
  /** Retries away from this backend, indexed like RETRY_REASONS. */
  readonly retries: readonly Tally[] = RETRY_REASONS.map(() => new Tally())
  /** Requests of this backend served by a fallback, per fallback backend name. */
  readonly failovers = new Map<string, Tally>()
  /** WebSocket handshakes answered, per status code sent to the client (101: a tunnel opened). */
  readonly upgrades = new Map<number, Tally>()
  /** Tunnels open now. */
  tunnelsOpen = 0

  constructor (readonly route: string, readonly backend: string, readonly version: string) {
    super()
  }

  /** A gRPC call's duration, under its status. */
  observeGrpc (seconds: number, status: number): void {
    let d = this.grpcDurations.get(status)
    if (d === undefined) {
      d = new Durations()
      this.grpcDurations.set(status, d)
    }
    d.observe(seconds)
  }

  rule (name: string): RuleCounts {
    let r = this.byRule.get(name)
    if (r === undefined) {
      r = new RuleCounts(name)
      this.byRule.set(name, r)
    }
    return r
  }

  failover (to: string): void {
    countIn(this.failovers, to)
  }

  upgrade (code: number): void {
    countIn(this.upgrades, code)
  }

  upstreamError (target: string, kind: UpstreamFailure): void {
    countAt(this.upstreamErrors, target, UPSTREAM_FAILURES.length, UPSTREAM_FAILURES.indexOf(kind))
  }

  queueRejection (target: string, kind: typeof QUEUE_FAILURES[number]): void {
    countAt(this.queueRejections, target, QUEUE_FAILURES.length, QUEUE_FAILURES.indexOf(kind))
  }
}
