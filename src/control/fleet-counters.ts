/**
 * The fleet's counters, for a leader's judgement: every live member's
 * GET /admin/metrics (prom-client's JSON), summed series by series, so a
 * rollout step is judged on all replicas' requests, not on the one that
 * runs it. Counters and histogram buckets add up exactly across processes
 * (as prom-client's AggregatorRegistry sums workers); a member that cannot
 * be read is listed in `missing`, never counted as zero traffic, so the
 * caller can call the step inconclusive.
 */
import { SwitchyardError } from '../errors.js'
import type { MetricsJson } from '../link/link.js'
import { countersOf, type Arms, type CountersReader } from './rollouts/readings.js'
import type { MemberInfo } from '../fleet/store.js'

export interface FleetReading {
  /** The sum over the members that answered, one series per (name, labels). */
  readonly metrics: MetricsJson
  /** The members read, with their own metrics. */
  readonly members: ReadonlyArray<{ readonly id: string, readonly metrics: MetricsJson }>
  /** Members listed as live that did not answer, with why. */
  readonly missing: ReadonlyArray<{ readonly id: string, readonly error: string }>
}

export interface FleetCountersOptions {
  /** The live members (the store's list; a single instance: itself). */
  readonly members: () => Promise<readonly MemberInfo[]>
  /** Bearer token for the members' admin APIs (they share one). */
  readonly token?: string
  readonly timeoutMs?: number
}

type Metric = MetricsJson[number]
type Value = Metric['values'][number]

const seriesKey = (v: Value): string => `${'metricName' in v ? String(v.metricName) : ''}|${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b)))}`

/** Sums the readings of several processes series by series (gauges are summed too; read them per member instead). */
export function sumMetrics (readings: readonly MetricsJson[]): MetricsJson {
  const byName = new Map<string, { metric: Metric, values: Map<string, Value> }>()
  for (const reading of readings) {
    for (const metric of reading) {
      let slot = byName.get(metric.name)
      if (slot === undefined) {
        slot = { metric, values: new Map() }
        byName.set(metric.name, slot)
      }
      for (const v of metric.values) {
        const k = seriesKey(v)
        const before = slot.values.get(k)
        slot.values.set(k, before === undefined ? { ...v } : { ...before, value: before.value + v.value })
      }
    }
  }
  return [...byName.values()].map(({ metric, values }) => ({ ...metric, values: [...values.values()] }))
}

export class FleetCounters {
  constructor (private readonly opts: FleetCountersOptions) {}

  async read (): Promise<FleetReading> {
    const members = await this.opts.members()
    const results = await Promise.all(members.map(async m => {
      try {
        return { id: m.id, metrics: await this.#fetch(m.adminUrl) }
      } catch (err) {
        return { id: m.id, error: (err as Error).message }
      }
    }))
    const read = results.filter((r): r is { id: string, metrics: MetricsJson } => 'metrics' in r)
    return {
      metrics: sumMetrics(read.map(r => r.metrics)),
      members: read,
      missing: results.filter((r): r is { id: string, error: string } => 'error' in r)
    }
  }

  async #fetch (adminUrl: string): Promise<MetricsJson> {
    const res = await fetch(new URL('/admin/metrics', adminUrl), {
      headers: this.opts.token === undefined ? {} : { authorization: `Bearer ${this.opts.token}` },
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000)
    })
    if (!res.ok) throw new Error(`GET /admin/metrics: HTTP ${res.status}`)
    return await res.json() as MetricsJson
  }
}

/**
 * On a fleet store the leader judges every replica's requests: each live
 * member's counters, summed. A member that did not answer fails the look
 * (the next tick tries again) instead of counting its traffic as none.
 */
export function fleetCountersReader (counters: FleetCounters): CountersReader {
  const complete = async (): Promise<FleetReading> => {
    const reading = await counters.read()
    // No member at all (the store lists none, not even the caller): nothing to anchor a step on or judge.
    if (reading.members.length === 0 && reading.missing.length === 0) throw new SwitchyardError('SY_ERR_FLEET_COUNTERS', 'no live replica in the store to read counters from')
    if (reading.missing.length > 0) {
      throw new SwitchyardError('SY_ERR_FLEET_COUNTERS', `no counters from ${reading.missing.map(m => `${m.id} (${m.error})`).join(', ')}`)
    }
    return reading
  }
  return {
    read: async (arms: Arms) => countersOf((await complete()).metrics, arms),
    readMembers: async (arms: Arms) => new Map((await complete()).members.map(m => [m.id, countersOf(m.metrics, arms)]))
  }
}
