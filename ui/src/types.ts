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

export interface Status extends FleetFields {
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

/** A replica of a fleet as GET /admin/status lists it (`serve --store`). */
export interface Replica {
  readonly id: string
  readonly adminUrl: string
  readonly revision: number
  readonly syncedAt: string
  readonly self: boolean
}

/** What a replica on a fleet's store adds to its status; absent on a single instance. */
export interface FleetFields {
  readonly store?: {
    readonly location: string
    readonly connected: boolean
    readonly stale: boolean
    readonly lastSyncAt: string | null
    readonly lastSyncAgeSeconds: number | null
    readonly error: string | null
  }
  readonly leader?: string | null
  /** null while the store cannot be asked. */
  readonly replicas?: readonly Replica[] | null
}

/** One statistical test of the judge (docs/judge.md): its statistic and always-valid p-value. */
export interface JudgeTest {
  readonly hypothesis: string
  readonly bayesFactor: number
  readonly pValue: number
  readonly level: number
  readonly rejected: boolean
}

export interface JudgeMetric {
  readonly canaryRate?: number
  readonly baselineRate?: number
  readonly ratio?: number
  readonly ratioUpper?: number
  readonly delta: number
  readonly tolerance: number
  readonly worse: JudgeTest
  readonly noWorse: JudgeTest
  readonly negligible: JudgeTest
}

export interface ArmWindow {
  readonly requests: number
  readonly errors: number
  readonly timed: number
  readonly slow?: number
}

/** The judge's last verdict on a step, with every number behind it. */
export interface Verdict {
  readonly outcome: string
  readonly rule: string
  readonly reason: string
  readonly at: number
  readonly alpha: number
  readonly weight: number
  readonly rho?: number
  readonly canary: ArmWindow
  readonly baseline: ArmWindow
  readonly threshold?: { readonly seconds: number, readonly source: 'baseline' | 'slo', readonly from: number }
  readonly errors: JudgeMetric
  readonly latency?: JudgeMetric
  readonly srm: { readonly observed?: number, readonly weight: number, readonly canaryUnits: number, readonly baselineUnits: number, readonly low: JudgeTest, readonly high: JudgeTest }
  readonly guardrails: ReadonlyArray<{ readonly name: string, readonly limit: number, readonly events: number, readonly units: number, readonly test: JudgeTest }>
  readonly exposure: { readonly met: boolean, readonly minRequests: number, readonly minStepMs: number, readonly maxStepMs: number, readonly elapsedMs: number }
}

export type RolloutPhase = 'Progressing' | 'Paused' | 'Succeeded' | 'Aborted'

/** GET /admin/rollouts/{route} (docs/rollouts.md). */
export interface Rollout {
  readonly route: string
  readonly canary: string
  readonly baseline: string
  readonly steps: readonly number[]
  readonly pauseAt: readonly number[]
  readonly startWeights: Readonly<Record<string, number>>
  readonly startRevision: number
  readonly phase: RolloutPhase
  readonly pauseReason?: string
  readonly abortReason?: string
  readonly message: string
  readonly step: { readonly index: number, readonly startedAt: number }
  readonly weight: number
  readonly lastVerdict?: Verdict
  readonly decisions: ReadonlyArray<{ readonly at: string, readonly step: number, readonly weight: number, readonly outcome: string, readonly rule: string, readonly reason: string, readonly action: string }>
  readonly createdAt: string
  readonly updatedAt: string
}

export interface RolloutsReply {
  readonly rollouts: readonly Rollout[]
}
