/**
 * Where the judge's counts come from: the data plane's per-request
 * counters, as GET /admin/metrics reads them (prom-client's JSON; with
 * `serve --workers`, each worker's through the plane link; in a fleet, each
 * replica's). Per arm, cumulative:
 *
 * - requests and errors: responses the route's default split decided for the
 *   arm (`rule="split"`: traffic a header or cookie rule sends to an arm is
 *   not part of the weighted split the sample-ratio check expects);
 *   errors are 5xx answers;
 * - a canary request its fallback served (a failover) counts as a canary
 *   request and a canary error, and not as a request of the backend that
 *   served it (switchyard_failovers_total);
 * - the duration histogram of the arm (every rule; a failover's duration is
 *   counted under the backend that served it);
 * - on a sticky route, the new users assigned to the arm
 *   (switchyard_sticky_assignments_total): the sample-ratio check's units,
 *   since one user sends many requests to the same arm.
 */
import { SwitchyardError } from '../../errors.js'
import { plus, type ArmCounters, type Counters } from '../../judge/counters.js'
import type { MetricsJson, PlaneMetrics } from '../../link/link.js'

export interface Arms {
  readonly route: string
  readonly canary: string
  readonly baseline: string
  /** The route assigns users stickily: count assignments as the sample-ratio check's units. */
  readonly sticky?: boolean
}

/** Reads the counters of a rollout's two arms (local, summed over workers, or over a fleet). */
export interface CountersReader {
  read (arms: Arms): Promise<Counters>
  /**
   * Each process's counters apart, by member id, where they come from
   * processes that come and go (a fleet's replicas, a primary's workers). The controller then adds each
   * member's increase since the previous look, kept in the rollout's state:
   * a replica that stops takes nothing counted with it, and a new leader
   * counts from the previous leader's last look, not from its own first.
   */
  readMembers? (arms: Arms): Promise<ReadonlyMap<string, Counters>>
}

interface Tally { requests: number, errors: number, buckets: Map<number, number>, units: number }

/** Both arms' cumulative counters from one metrics reading. */
export function countersOf (metrics: MetricsJson, arms: Arms): Counters {
  const tally = (): Tally => ({ requests: 0, errors: 0, buckets: new Map(), units: 0 })
  const by: Record<string, Tally> = { [arms.canary]: tally(), [arms.baseline]: tally() }
  for (const metric of metrics) {
    for (const { labels, value } of metric.values) {
      if (labels.route !== arms.route) continue
      const t = by[String(labels.backend)]
      if (t === undefined) continue
      if (metric.name === 'switchyard_requests_total') {
        if (labels.rule !== 'split') continue
        t.requests += value
        // gRPC calls answer 200: their status counts when the route calls it an error (grpc_error).
        if (String(labels.code ?? '').startsWith('5') || labels.grpc_error === 'true') t.errors += value
      } else if (metric.name === 'switchyard_failovers_total') {
        t.requests += value
        t.errors += value
        const served = by[String(labels.fallback)]
        if (served !== undefined) served.requests -= value
      } else if (metric.name === 'switchyard_sticky_assignments_total') {
        t.units += value
      } else if (metric.name === 'switchyard_request_duration_seconds' && labels.le !== undefined) {
        // A histogram's values are its buckets (with `le`), then its sum and count.
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le)
        t.buckets.set(le, (t.buckets.get(le) ?? 0) + value)
      }
    }
  }
  const arm = (t: Tally | undefined): ArmCounters => ({
    requests: Math.max(0, t?.requests ?? 0),
    errors: t?.errors ?? 0,
    buckets: t?.buckets ?? new Map(),
    ...(arms.sticky === true ? { units: t?.units ?? 0 } : {})
  })
  return { canary: arm(by[arms.canary]), baseline: arm(by[arms.baseline]) }
}

/** A reader over a function that returns the current metrics (this process's). */
export function metricsReader (metrics: () => Promise<MetricsJson>): CountersReader {
  return { read: async arms => countersOf(await metrics(), arms) }
}

/**
 * Under `serve --workers`: each worker's counters apart, as the members of
 * a fleet are (look.ts adds each one's increase since its mark). A worker
 * that died and was replaced then counts from its start and the others
 * only their increase, where the workers' sum would drop and be read as a
 * restart of everything. Keys carry the primary's pid: node:cluster
 * numbers workers from 1 again in a restarted primary, whose new workers
 * must not be taken for the old ones.
 */
export function workersReader (workers: () => Promise<readonly PlaneMetrics[]>, primary = process.pid): CountersReader {
  const each = async (arms: Arms): Promise<Map<string, Counters>> => {
    const read = await workers()
    if (read.length === 0) throw new SwitchyardError('SY_ERR_FLEET_COUNTERS', 'no worker answered with its counters')
    return new Map(read.map(p => [`${primary}-${p.worker}`, countersOf(p.metrics, arms)]))
  }
  return {
    read: async arms => [...(await each(arms)).values()].reduce((a, b) => plus(a, b)),
    readMembers: each
  }
}
