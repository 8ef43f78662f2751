/**
 * The admin API's replies as the console reads them (docs/admin-api.md).
 * Declared here, not imported from src/, so the browser code depends on the
 * documented HTTP contract only.
 */

export interface Weights {
  readonly to?: string
  readonly weights?: Readonly<Record<string, number>>
  /** Backend → percent of requests (or users, for a sticky route). */
  readonly percent: Readonly<Record<string, number>>
}

export interface RouteStatus {
  readonly name: string
  readonly match: Readonly<Record<string, unknown>>
  readonly default: Weights
  readonly rules: ReadonlyArray<{ readonly name: string } & Weights>
  readonly sticky: Readonly<Record<string, string>> | null
  readonly timeout: string
}

export interface Status {
  readonly revision: number
  readonly sha256: string
  readonly loadedAt: string
  readonly source: string
  readonly configFile: string
  readonly lastReloadError: null | { readonly at: string, readonly source: string, readonly problems: ReadonlyArray<{ readonly text: string }> }
  readonly routes: readonly RouteStatus[]
  readonly backends: ReadonlyArray<{
    readonly name: string
    readonly version: string
    readonly targets: ReadonlyArray<{ readonly url: string, readonly inFlight: number, readonly health: string }>
  }>
}

export interface HistoryEntry {
  readonly revision: number
  readonly time: string
  readonly source: string
  readonly summary: string
  readonly sha256: string
  readonly current?: boolean
  /** Only from GET /admin/history/{n}. */
  readonly config?: string
}

export interface HistoryReply {
  readonly revision: number
  readonly entries: readonly HistoryEntry[]
}

export interface ChangeReply {
  readonly revision: number
  readonly sha256: string
  readonly changed: boolean
  readonly summary: string
}

export interface ExplainRequest {
  readonly method?: string
  readonly host?: string
  readonly path?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly cookies?: Readonly<Record<string, string>>
}

export interface Tried { readonly name: string, readonly matched: boolean }

export interface ExplainReply {
  readonly revision: number | null
  readonly route: string | null
  readonly routesTried: readonly Tried[]
  readonly rule: string | null
  readonly rulesTried: readonly Tried[]
  readonly destination: { readonly kind: 'to', readonly backend: string } | { readonly kind: 'split', readonly weights: Readonly<Record<string, number>>, readonly percent: Readonly<Record<string, number>> } | null
  readonly backend: string | null
  readonly version: string | null
  readonly sticky: null | {
    readonly source: 'cookie' | 'header'
    readonly name: string
    readonly key: string | null
    readonly scores?: Readonly<Record<string, number>>
    readonly switchesAt?: { readonly backend: string, readonly percent: number }
  }
  readonly reason: string
}

export interface DestinationDiff {
  readonly route: string
  readonly part: string
  readonly sticky: boolean
  readonly shares: Readonly<Record<string, { readonly before: number, readonly after: number }>>
  readonly moves: ReadonlyArray<{ readonly from: string, readonly to: string, readonly percent: number }>
}

export interface DiffReply {
  readonly revision: number
  readonly summary: string
  readonly changed: readonly DestinationDiff[]
  readonly routesAdded: readonly string[]
  readonly routesRemoved: readonly string[]
}

/** Oldest first; null where an interval had no responses. */
export interface Points {
  readonly t: readonly number[]
  readonly rate: readonly number[]
  readonly errorShare: ReadonlyArray<number | null>
  readonly p50: ReadonlyArray<number | null>
  readonly p99: ReadonlyArray<number | null>
  readonly sticky: readonly number[]
  readonly requests: readonly number[]
}

export interface Series {
  readonly route: string
  readonly backend: string
  readonly version: string
  readonly points: Points
}

export interface TimeseriesReply {
  readonly intervalSeconds: number
  readonly windowSeconds: number
  readonly sampledAt: number | null
  readonly series: readonly Series[]
}

/** A config as JSON (GET /admin/config); the console edits only routes' default splits. */
export interface ConfigJson {
  readonly routes?: ReadonlyArray<Readonly<Record<string, unknown>> & { readonly name: string }>
  readonly [key: string]: unknown
}
