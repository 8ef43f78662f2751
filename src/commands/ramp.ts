/**
 * `switchyard ramp ROUTE BACKEND --steps 10,25,50,100 --interval 5m`: a
 * canary rollout in steps, each held for an interval while the backend's
 * answers are judged — Argo Rollouts' `setWeight`/`pause` steps with an
 * analysis, without a controller. Each step is a revision written with
 * If-Match, so the ramp never overwrites another operator: if someone else
 * changes the config, it stops and leaves their change alone (exit 3). When
 * the backend's share of 5xx answers during a step exceeds
 * `--max-error-rate`, it restores the revision it started from (exit 4).
 *
 * The judgement reads switchyard's own counters (`switchyard_requests_total`
 * on the admin listener's /metrics) before and during each step, so it needs
 * no Prometheus; with `serve --workers` those are the sum over workers.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseExposition, type Sample } from '../observability/exposition.js'
import { formatDuration, parseDuration } from '../util/duration.js'
import { AdminClient, CliError } from './admin-client.js'
import type { ChangeReply, StatusReply } from './format.js'

export interface RampOptions {
  admin?: string
  steps: string
  interval: string
  maxErrorRate?: string
  minRequests?: string
}

/** Exit code of a ramp that failed its analysis and was rolled back. */
export const EXIT_ANALYSIS_FAILED = 4

/** Responses of a route served by a backend: all, and those with a 5xx status. */
export interface Responses {
  readonly total: number
  readonly errors: number
}

/** Sums `switchyard_requests_total` of (route, backend) from a /metrics scrape. */
export function responsesOf (samples: readonly Sample[], route: string, backend: string): Responses {
  let total = 0
  let errors = 0
  for (const s of samples) {
    if (s.name !== 'switchyard_requests_total' || s.labels.route !== route || s.labels.backend !== backend) continue
    total += s.value
    if ((s.labels.code ?? '').startsWith('5')) errors += s.value
  }
  return { total, errors }
}

export interface Gate {
  /** Highest share of 5xx answers, in percent; undefined: no analysis, steps are only timed. */
  readonly maxErrorPercent: number | undefined
  /** Responses a step needs before it can be judged. */
  readonly minRequests: number
}

export type Verdict =
  | { readonly kind: 'fail', readonly errorPercent: number }
  | { readonly kind: 'pass', readonly errorPercent: number }
  | { readonly kind: 'wait', readonly errorPercent: number }

/**
 * The verdict on a step from the responses counted since it began (pure).
 * A step fails as soon as it has `minRequests` responses and too many 5xx,
 * even before its interval ends; it passes only once the interval is over
 * and it has enough responses; otherwise it waits.
 */
export function judgeStep (delta: Responses, intervalOver: boolean, gate: Gate): Verdict {
  const errorPercent = delta.total === 0 ? 0 : 100 * delta.errors / delta.total
  if (gate.maxErrorPercent === undefined) return { kind: intervalOver ? 'pass' : 'wait', errorPercent }
  const enough = delta.total >= gate.minRequests
  if (enough && errorPercent > gate.maxErrorPercent) return { kind: 'fail', errorPercent }
  return { kind: intervalOver && enough ? 'pass' : 'wait', errorPercent }
}

/** `10,25,50,100` → increasing percentages between 0 and 100. */
export function parseSteps (text: string): number[] {
  const steps = text.split(',').map(s => s.trim())
  const out: number[] = []
  for (const s of steps) {
    if (!/^\d+$/.test(s) || Number(s) > 100) throw new CliError(`--steps: expected percentages from 0 to 100 separated by commas, got ${JSON.stringify(s)}`)
    const n = Number(s)
    if (out.length > 0 && n <= (out[out.length - 1] as number)) throw new CliError(`--steps must increase: ${text}`)
    out.push(n)
  }
  return out
}

function parseGate (opts: RampOptions): Gate {
  let maxErrorPercent: number | undefined
  if (opts.maxErrorRate !== undefined) {
    const m = /^(\d+(?:\.\d+)?)%?$/.exec(opts.maxErrorRate.trim())
    if (m === null || Number(m[1]) > 100) throw new CliError(`--max-error-rate: expected a percentage such as 1 or 0.5%, got ${JSON.stringify(opts.maxErrorRate)}`)
    maxErrorPercent = Number(m[1])
  }
  const minRequests = opts.minRequests === undefined ? 20 : Number(opts.minRequests)
  if (!Number.isInteger(minRequests) || minRequests < 1) throw new CliError(`--min-requests: expected a positive integer, got ${JSON.stringify(opts.minRequests)}`)
  return { maxErrorPercent, minRequests }
}

function durationOption (name: string, text: string): number {
  try {
    return parseDuration(text)
  } catch (err) {
    throw new CliError(`${name}: ${(err as Error).message}`)
  }
}

const say = (line: string): void => { process.stdout.write(line + '\n') }
const pct = (n: number): string => `${Number(n.toFixed(2))} %`
/** Elapsed time to a tenth of a second: `10.1s`, `300ms`. */
const roughly = (ms: number): string => formatDuration(ms < 1000 ? Math.round(ms) : Math.round(ms / 100) * 100)

export async function rampCommand (route: string, backend: string, opts: RampOptions): Promise<void> {
  const steps = parseSteps(opts.steps)
  const intervalMs = durationOption('--interval', opts.interval)
  const gate = parseGate(opts)
  const client = new AdminClient(opts.admin)
  const pollMs = Math.min(1000, Math.max(50, intervalMs))
  const responses = async (): Promise<Responses> => responsesOf(parseExposition(await client.text('/metrics')), route, backend)

  const start = await client.call<StatusReply>('GET', '/admin/status')
  const startRevision = start.body.revision
  if (start.body.routes.find(r => r.name === route) === undefined) throw new CliError(`no route named ${JSON.stringify(route)} (see \`switchyard status\`)`)
  let etag = start.etag
  const analysis = gate.maxErrorPercent === undefined ? 'no analysis' : `abort above ${pct(gate.maxErrorPercent)} 5xx (judged after ${gate.minRequests} responses)`
  say(`ramp ${route}: ${backend} → ${steps.join(', ')} %, ${formatDuration(intervalMs)} per step, ${analysis}; from revision ${startRevision}`)

  for (const [i, step] of steps.entries()) {
    const change = await client.call<ChangeReply>('PUT', `/admin/routes/${encodeURIComponent(route)}/weights`, { weights: { [backend]: step } }, etag)
      .catch((err: unknown) => {
        if (err instanceof CliError && err.exitCode === 3) {
          throw new CliError(`ramp stopped before ${backend} ${step} %: someone else changed the config during the ramp; their change stands (see \`switchyard history\`)`, 3, err.code)
        }
        throw err
      })
    etag = change.etag
    say(`step ${i + 1}/${steps.length}: revision ${change.body.revision}: ${change.body.summary}`)
    const before = await responses()
    const began = performance.now()
    let waitingSaid = false
    for (;;) {
      await sleep(pollMs)
      const now = await responses()
      const delta = { total: now.total - before.total, errors: now.errors - before.errors }
      const elapsed = performance.now() - began
      const verdict = judgeStep(delta, elapsed >= intervalMs, gate)
      if (verdict.kind === 'fail') {
        say(`step ${i + 1}/${steps.length}: ${backend} answered ${delta.errors} of ${delta.total} requests with 5xx (${pct(verdict.errorPercent)} > ${pct(gate.maxErrorPercent ?? 0)}) after ${roughly(elapsed)}: aborting`)
        const undo = await client.call<ChangeReply>('POST', '/admin/undo', { toRevision: startRevision }, etag)
        say(`revision ${undo.body.revision}: ${undo.body.summary}`)
        throw new CliError(`ramp aborted at ${backend} ${step} %: routing restored to revision ${startRevision}`, EXIT_ANALYSIS_FAILED)
      }
      if (verdict.kind === 'pass') {
        say(`step ${i + 1}/${steps.length}: ${backend} at ${step} % for ${roughly(elapsed)}: ${delta.total} responses, ${pct(verdict.errorPercent)} 5xx — ok`)
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
