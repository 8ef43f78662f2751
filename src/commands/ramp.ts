/**
 * `switchyard ramp ROUTE BACKEND --steps 10,25,50,100 --interval 5m`: a
 * canary rollout in steps, each held for an interval while the backend's
 * answers are judged — Argo Rollouts' `setWeight`/`pause` steps with an
 * analysis, without a controller. Each step is a revision written with
 * If-Match, so the ramp never overwrites another operator: if someone else
 * changes the config, it stops and leaves their change alone (exit 3). When
 * the backend's share of 5xx answers during a step exceeds
 * `--max-error-rate`, or the p99 of its response times exceeds `--max-p99`,
 * it restores the revision it started from (exit 4).
 *
 * The judgement reads switchyard's own counters (`switchyard_requests_total`
 * and the duration histogram, as prom-client's JSON from the admin API's
 * /admin/metrics) before and during each step, so it needs no Prometheus;
 * with `serve --workers` those are the sum over workers.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { MetricsJson } from '../link/link.js'
import { formatDuration } from '../util/duration.js'
import { AdminClient, CliError } from './admin-client.js'
import { putWeights } from './admin-commands.js'
import type { ChangeReply, StatusReply } from './format.js'
import { output } from './output.js'

/** As commander parsed them (see options.ts). */
export interface RampOptions {
  admin?: string
  /** Increasing percentages. */
  steps: number[]
  /** Milliseconds each step is held. */
  interval: number
  /** Percent. */
  maxErrorRate?: number
  /** Milliseconds. */
  maxP99?: number
  minRequests: number
}

/** Exit code of a ramp that failed its analysis and was rolled back. */
export const EXIT_ANALYSIS_FAILED = 4

/**
 * Requests a route decided for a backend, from switchyard's counters: the
 * backend's responses, plus those its fallback served because it had no
 * healthy target (a dead canary with `fallback: stable` fails its step
 * instead of looking idle).
 */
export interface Responses {
  readonly total: number
  /** Answered with a 5xx status, a gRPC status the route counts as an error, or failed over. */
  readonly errors: number
  /** Of the errors, those its fallback served. */
  readonly failovers: number
  /** The duration histogram: cumulative count by upper bound in seconds (`+Inf` included). */
  readonly buckets: ReadonlyMap<number, number>
}

/** Sums `switchyard_requests_total`, `switchyard_failovers_total` and the duration histogram of (route, backend) from /admin/metrics. */
export function responsesOf (metrics: MetricsJson, route: string, backend: string): Responses {
  let total = 0
  let errors = 0
  let failovers = 0
  const buckets = new Map<number, number>()
  for (const metric of metrics) {
    for (const { labels, value } of metric.values) {
      if (labels.route !== route || labels.backend !== backend) continue
      if (metric.name === 'switchyard_requests_total') {
        total += value
        // gRPC calls answer 200: their status counts when the route calls it an error (grpc_error).
        if (String(labels.code ?? '').startsWith('5') || labels.grpc_error === 'true') errors += value
      } else if (metric.name === 'switchyard_failovers_total') {
        total += value
        errors += value
        failovers += value
      } else if (metric.name === 'switchyard_request_duration_seconds' && labels.le !== undefined) {
        // A histogram's values are its buckets (with `le`), then its sum and count.
        const le = labels.le === '+Inf' ? Infinity : Number(labels.le)
        buckets.set(le, (buckets.get(le) ?? 0) + value)
      }
    }
  }
  return { total, errors, failovers, buckets }
}

/** What was counted between two scrapes. */
export function since (now: Responses, before: Responses): Responses {
  const buckets = new Map<number, number>()
  for (const [le, n] of now.buckets) buckets.set(le, n - (before.buckets.get(le) ?? 0))
  return { total: now.total - before.total, errors: now.errors - before.errors, failovers: now.failovers - before.failovers, buckets }
}

/**
 * The q-quantile of a cumulative histogram, in seconds, estimated as
 * Prometheus's histogram_quantile() does: linear inside the bucket that
 * holds the rank; the highest finite bound when the rank is in `+Inf`.
 * Undefined for an empty histogram.
 */
export function histogramQuantile (q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b)
  const count = buckets.get(Infinity) ?? 0
  if (count <= 0 || bounds.length < 2) return undefined
  const rank = q * count
  let lower = 0
  let below = 0
  for (const upper of bounds) {
    const cumulative = buckets.get(upper) ?? 0
    if (cumulative >= rank) {
      if (upper === Infinity) return lower
      return lower + (upper - lower) * (rank - below) / (cumulative - below)
    }
    lower = upper
    below = cumulative
  }
  return lower
}

export interface Gate {
  /** Highest share of 5xx answers, in percent; undefined: not judged. */
  readonly maxErrorPercent: number | undefined
  /** Highest p99 of the answers' duration, in seconds; undefined: not judged. */
  readonly maxP99Seconds: number | undefined
  /** Responses a step needs before it can be judged. */
  readonly minRequests: number
}

export interface Verdict {
  readonly kind: 'fail' | 'pass' | 'wait'
  readonly errorPercent: number
  /** Seconds; undefined with no answers. */
  readonly p99: number | undefined
  /** Why it failed: `5xx 12 % > 1 %`, `p99 1.2s > 500ms`. */
  readonly reasons: readonly string[]
}

/**
 * The verdict on a step from the responses counted since it began (pure).
 * A step fails as soon as it has `minRequests` responses and too many 5xx
 * or too slow a p99, even before its interval ends; it passes only once the
 * interval is over and it has enough responses; otherwise it waits. With
 * neither limit set, steps are only timed.
 */
export function judgeStep (delta: Responses, intervalOver: boolean, gate: Gate): Verdict {
  const errorPercent = delta.total === 0 ? 0 : 100 * delta.errors / delta.total
  const p99 = histogramQuantile(0.99, delta.buckets)
  const { maxErrorPercent, maxP99Seconds } = gate
  const judged = maxErrorPercent !== undefined || maxP99Seconds !== undefined
  const enough = !judged || delta.total >= gate.minRequests
  const reasons: string[] = []
  if (judged && enough) {
    if (maxErrorPercent !== undefined && errorPercent > maxErrorPercent) reasons.push(`${errorKind(delta)} ${pct(errorPercent)} > ${pct(maxErrorPercent)}`)
    if (maxP99Seconds !== undefined && p99 !== undefined && p99 > maxP99Seconds) reasons.push(`p99 ${seconds(p99)} > ${seconds(maxP99Seconds)}`)
  }
  const kind = reasons.length > 0 ? 'fail' : intervalOver && enough ? 'pass' : 'wait'
  return { kind, errorPercent, p99, reasons }
}

function errorKind (delta: Responses): string {
  return delta.failovers === 0 ? '5xx' : '5xx or failover'
}

function pct (n: number): string {
  return `${Number(n.toFixed(2))} %`
}

/** Seconds for a message: `4.2ms`, `120ms`, `1.25s`. */
function seconds (s: number): string {
  const ms = s * 1000
  return ms < 10 ? `${Number(ms.toFixed(1))}ms` : formatDuration(Math.round(ms))
}

/** `345 responses, 0 % 5xx, p99 4.2ms`; `60 requests, 40 failed over, 100 % 5xx or failover`. */
function describe (delta: Responses, verdict: Verdict): string {
  const counted = delta.failovers === 0 ? `${delta.total} responses` : `${delta.total} requests, ${delta.failovers} failed over`
  return `${counted}, ${pct(verdict.errorPercent)} ${errorKind(delta)}${verdict.p99 === undefined ? '' : `, p99 ${seconds(verdict.p99)}`}`
}

const say = (line: string): void => { output().out(line + '\n') }
/** Elapsed time to a tenth of a second: `10.1s`, `300ms`. */
const roughly = (ms: number): string => formatDuration(ms < 1000 ? Math.round(ms) : Math.round(ms / 100) * 100)

/**
 * Back to the revision the ramp started from. A long ramp can outlive the
 * history (`revisionHistoryLimit`); then the starting weights are set
 * again, which restores the same routing: If-Match guaranteed that the
 * ramp's own steps were the only changes since.
 */
async function restore (client: AdminClient, route: string, startRevision: number, startWeights: Readonly<Record<string, number>>, etag: string | undefined): Promise<void> {
  try {
    const undo = await client.call<ChangeReply>('POST', '/admin/undo', { toRevision: startRevision }, etag)
    say(`revision ${undo.body.revision}: ${undo.body.summary}`)
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== 'SY_ERR_ADMIN_UNKNOWN_REVISION') throw err
    const put = await putWeights(client, route, startWeights, etag)
    say(`revision ${put.body.revision}: ${put.body.summary} (revision ${startRevision} is no longer in the history: its weights were set again)`)
  }
}

export async function rampCommand (route: string, backend: string, opts: RampOptions): Promise<void> {
  const { steps, interval: intervalMs } = opts
  const gate: Gate = { maxErrorPercent: opts.maxErrorRate, maxP99Seconds: opts.maxP99 === undefined ? undefined : opts.maxP99 / 1000, minRequests: opts.minRequests }
  const client = new AdminClient(opts.admin)
  const pollMs = Math.min(1000, Math.max(50, intervalMs))
  const responses = async (): Promise<Responses> => responsesOf((await client.call<MetricsJson>('GET', '/admin/metrics')).body, route, backend)

  const start = await client.call<StatusReply>('GET', '/admin/status')
  const startRevision = start.body.revision
  const startRoute = start.body.routes.find(r => r.name === route)
  if (startRoute === undefined) throw new CliError(`no route named ${JSON.stringify(route)} (see \`switchyard status\`)`)
  // A `to: X` route reads as { X: 100 }: set on the ramp's split, every other backend gets 0.
  const startWeights = startRoute.default.weights ?? startRoute.default.percent
  let etag = start.etag
  const limits = [
    ...(gate.maxErrorPercent === undefined ? [] : [`${pct(gate.maxErrorPercent)} 5xx`]),
    ...(gate.maxP99Seconds === undefined ? [] : [`p99 ${seconds(gate.maxP99Seconds)}`])
  ]
  const analysis = limits.length === 0 ? 'no analysis' : `abort above ${limits.join(' or ')} (judged after ${gate.minRequests} responses)`
  say(`ramp ${route}: ${backend} → ${steps.join(', ')} %, ${formatDuration(intervalMs)} per step, ${analysis}; from revision ${startRevision}`)

  // Ctrl-C (or a SIGTERM from a pipeline's timeout) stops the ramp where it is and says how to go back.
  let current = 'its starting share'
  const interrupted = (signal: NodeJS.Signals): void => {
    output().err(`switchyard: ramp interrupted (${signal}) with ${backend} at ${current}; routing is left as it is: \`switchyard undo --to-revision ${startRevision}\` restores the start\n`)
    process.exit(130)
  }
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted)

  for (const [i, step] of steps.entries()) {
    const change = await putWeights(client, route, { [backend]: step }, etag).catch((err: unknown) => {
        if (err instanceof CliError && err.exitCode === 3) {
          throw new CliError(`ramp stopped before ${backend} ${step} %: someone else changed the config during the ramp; their change stands (see \`switchyard history\`)`, 3, err.code)
        }
        throw err
      })
    etag = change.etag
    current = `${step} %`
    say(`step ${i + 1}/${steps.length}: revision ${change.body.revision}: ${change.body.summary}`)
    const before = await responses()
    const began = performance.now()
    let waitingSaid = false
    for (;;) {
      await sleep(pollMs)
      const now = await responses()
      const delta = since(now, before)
      const elapsed = performance.now() - began
      const verdict = judgeStep(delta, elapsed >= intervalMs, gate)
      if (verdict.kind === 'fail') {
        say(`step ${i + 1}/${steps.length}: ${backend} after ${roughly(elapsed)}: ${describe(delta, verdict)}; ${verdict.reasons.join(', ')}: aborting`)
        await restore(client, route, startRevision, startWeights, etag)
        throw new CliError(`ramp aborted at ${backend} ${step} %: routing restored to revision ${startRevision}`, EXIT_ANALYSIS_FAILED)
      }
      if (verdict.kind === 'pass') {
        say(`step ${i + 1}/${steps.length}: ${backend} at ${step} % for ${roughly(elapsed)}: ${describe(delta, verdict)} — ok`)
        break
      }
      if (elapsed >= intervalMs && !waitingSaid) {
        waitingSaid = true
        say(`step ${i + 1}/${steps.length}: waiting for traffic to judge it: ${delta.total} of ${gate.minRequests} responses so far`)
      }
    }
  }
  say(`ramp done: ${route} sends ${steps[steps.length - 1] ?? 0} % to ${backend}`)
}
