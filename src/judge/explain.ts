/**
 * The decision rules in order, each with the sentence `rollout status` and
 * the log show for it. Inconclusive verdicts list what is still missing, so
 * "paused at max-step" always says whether traffic or evidence ran short
 * (Argo's "inconclusive means neither condition is met" — with the reason).
 */
import { fmt, type MetricReport } from './compare.js'
import type { TestResult } from './evidence.js'
import type { GuardrailReport } from './guardrails.js'
import type { SrmReport } from './srm.js'
import type { ArmWindow, Exposure, Outcome, Rule } from './verdict.js'

export interface Findings {
  readonly canary: ArmWindow
  readonly baseline: ArmWindow
  readonly errors: MetricReport
  readonly latency: MetricReport | undefined
  readonly srm: SrmReport
  readonly guardrails: readonly GuardrailReport[]
  readonly exposure: Exposure
}

export interface Decision {
  readonly outcome: Outcome
  readonly rule: Rule
  readonly reason: string
}

const pct = (x: number | undefined): string => x === undefined ? 'n/a' : `${fmt(100 * x)} %`
const p = (t: TestResult): string => `p ${fmt(t.pValue)} ${t.rejected ? '≤' : '>'} ${fmt(t.level)}`

/** "1m30s", "45s", "250ms": durations as the CLI writes them. */
function duration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.floor(ms / 1000)
  const m = Math.floor(s / 60)
  return m === 0 ? `${s}s` : s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
}

function counts (m: MetricReport): string {
  return `canary ${m.canary.events} of ${m.canary.units} (${pct(m.canaryRate)}), baseline ${m.baseline.events} of ${m.baseline.units} (${pct(m.baselineRate)})`
}

function worse (name: string, m: MetricReport): string {
  return `${name} worse than ${fmt(1 + m.delta)}× the baseline's: ${counts(m)}, canary share ${pct(m.rho)} (${p(m.worse)})`
}

function noWorse (name: string, m: MetricReport): string {
  return m.noWorse.rejected
    ? `${name} no worse than ${fmt(1 + m.delta)}× the baseline's (${p(m.noWorse)})`
    : `${name} below the ${pct(m.tolerance)} tolerance (${p(m.negligible)})`
}

function notYet (name: string, m: MetricReport): string {
  const tolerance = m.tolerance > 0 ? ` or below ${pct(m.tolerance)} (${p(m.negligible)})` : ''
  return `${name} not yet shown within ${fmt(1 + m.delta)}× the baseline's (${p(m.noWorse)})${tolerance}: ${counts(m)}`
}

function guardrail (g: GuardrailReport): string {
  return g.name === 'errorRate'
    ? `canary error rate ${pct(g.observed)} (${g.events} of ${g.units}) is above the ${pct(g.limit)} guardrail (${p(g.test)})`
    : `canary latency is above the ${fmt(g.limit)} s guardrail: ${g.events} of ${g.units} slower than ${fmt(g.bound ?? g.limit)} s (${p(g.test)})`
}

/** What keeps the step from passing. */
function missing (f: Findings): string[] {
  const out: string[] = []
  const { exposure: e } = f
  for (const [arm, w] of [['canary', f.canary], ['baseline', f.baseline]] as const) {
    if (w.requests < e.minRequests) out.push(`${arm} has ${w.requests} of ${e.minRequests} requests`)
  }
  if (e.elapsedMs < e.minStepMs) out.push(`step has run ${duration(e.elapsedMs)} of ${duration(e.minStepMs)}`)
  if (!f.errors.passed) out.push(notYet('errors', f.errors))
  if (f.latency !== undefined && !f.latency.passed) out.push(notYet('latency', f.latency))
  return out
}

export function explain (f: Findings): Decision {
  const broken = f.guardrails.find(g => g.test.rejected)
  if (broken !== undefined) {
    return { outcome: 'critical', rule: broken.name === 'errorRate' ? 'guardrail-error-rate' : 'guardrail-latency', reason: guardrail(broken) }
  }
  if (f.errors.worse.rejected) return { outcome: 'worse', rule: 'errors-worse', reason: worse('errors', f.errors) }
  if (f.latency?.worse.rejected === true) return { outcome: 'worse', rule: 'latency-worse', reason: worse('latency', f.latency) }
  if (f.srm.mismatch) {
    const s = f.srm
    const side = s.high.rejected ? s.high : s.low
    return {
      outcome: 'srm',
      rule: 'sample-ratio',
      reason: `canary got ${pct(s.observed)} of ${s.canaryUnits + s.baselineUnits} units, its weight is ${pct(s.weight)} (${p(side)})`
    }
  }
  const gaps = missing(f)
  if (gaps.length === 0) {
    const latency = f.latency === undefined ? 'latency not judged (no threshold)' : noWorse('latency', f.latency)
    return { outcome: 'pass', rule: 'no-worse', reason: `${noWorse('errors', f.errors)}; ${latency}` }
  }
  const { elapsedMs, maxStepMs } = f.exposure
  if (elapsedMs >= maxStepMs) {
    return { outcome: 'inconclusive-timeout', rule: 'max-step', reason: `inconclusive after ${duration(elapsedMs)} (max-step ${duration(maxStepMs)}): ${gaps.join('; ')}` }
  }
  return { outcome: 'inconclusive-continue', rule: 'waiting', reason: gaps.join('; ') }
}
