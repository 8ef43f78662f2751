/**
 * `switchyard rollout status` as text: where each rollout stands, and the
 * numbers behind its last verdict — per arm requests, errors and slow
 * requests; per test its Bayes factor (the statistic), always-valid
 * p-value and level; δ, α, and the rule that decided.
 */
import type { DecisionEntry, RolloutState } from '../control/rollouts/model.js'
import { fmt, type MetricReport } from '../judge/compare.js'
import type { TestResult } from '../judge/evidence.js'
import type { Verdict } from '../judge/verdict.js'

const pct = (x: number | undefined): string => x === undefined ? 'n/a' : `${fmt(100 * x)} %`

function elapsed (ms: number): string {
  const s = Math.floor(ms / 1000)
  const m = Math.floor(s / 60)
  return m === 0 ? `${s}s` : `${m}m${String(s % 60).padStart(2, '0')}s`
}

function test (t: TestResult): string {
  return `BF ${fmt(t.bayesFactor)}, p ${fmt(t.pValue)} ${t.rejected ? '≤' : '>'} ${fmt(t.level)}${t.rejected ? ' (rejected)' : ''}`
}

function metric (name: string, m: MetricReport): string[] {
  const ratio = m.ratio === undefined ? 'n/a' : `${fmt(m.ratio)}${m.ratioUpper === undefined ? '' : ` (upper bound ${fmt(m.ratioUpper)})`}`
  return [
    `  ${name}: canary ${pct(m.canaryRate)}, baseline ${pct(m.baselineRate)}, ratio ${ratio}, δ ${fmt(m.delta)}, tolerance ${pct(m.tolerance)}`,
    `    worse    (${m.worse.hypothesis} rejected → abort): ${test(m.worse)}`,
    `    no worse (${m.noWorse.hypothesis} rejected → pass): ${test(m.noWorse)}`,
    `    tolerance (${m.negligible.hypothesis} rejected → pass): ${test(m.negligible)}`
  ]
}

function table (v: Verdict): string[] {
  const slowHead = v.threshold === undefined ? 'slow' : `slow (> ${fmt(v.threshold.seconds)} s)`
  const row = (name: string, a: Verdict['canary']): string =>
    `  ${name.padEnd(9)} ${String(a.requests).padStart(9)} ${String(a.errors).padStart(8)} ${(a.slow === undefined ? '–' : String(a.slow)).padStart(slowHead.length)}`
  return [`  ${''.padEnd(9)} ${'requests'.padStart(9)} ${'errors'.padStart(8)} ${slowHead}`, row('canary', v.canary), row('baseline', v.baseline)]
}

/** The last verdict with every number behind it. */
export function formatVerdict (v: Verdict): string[] {
  const e = v.exposure
  const threshold = v.threshold === undefined
    ? 'latency not judged this step (no SLO and no baseline traffic before it)'
    : `slow means over ${fmt(v.threshold.seconds)} s (${v.threshold.source === 'slo' ? 'the SLO' : 'the baseline\'s p99 before the step'}, ${fmt(v.threshold.from)} s, rounded up to a bucket bound)`
  const lines = [
    `last look: ${v.outcome} by rule ${v.rule}: ${v.reason}`,
    ...table(v),
    `  α ${fmt(v.alpha)}; canary weight ${pct(v.weight)} of the two arms, observed ${pct(v.rho)}; step ran ${elapsed(e.elapsedMs)} (min ${elapsed(e.minStepMs)}, max ${elapsed(e.maxStepMs)}), ${e.minRequests} requests per arm needed`,
    `  ${threshold}`,
    ...metric('errors', v.errors),
    ...(v.latency === undefined ? [] : metric('latency', v.latency)),
    `  sample ratio: canary ${pct(v.srm.observed)} of ${v.srm.canaryUnits + v.srm.baselineUnits} against ${pct(v.srm.weight)}: low ${test(v.srm.low)}; high ${test(v.srm.high)}`
  ]
  for (const g of v.guardrails) lines.push(`  guardrail ${g.name} ≤ ${fmt(g.limit)}: ${g.events} of ${g.units}, ${test(g.test)}`)
  return lines
}

function decision (d: DecisionEntry): string {
  return `  ${d.at} step ${d.step} (${d.weight} %): ${d.outcome} (${d.rule}) → ${d.action}: ${d.reason}`
}

/** One line: where the rollout stands. */
export function headline (s: RolloutState): string {
  const why = s.pauseReason !== undefined ? ` (${s.pauseReason})` : s.abortReason !== undefined ? ` (${s.abortReason})` : ''
  return `${s.route}: ${s.phase}${why}, step ${s.step.index + 1}/${s.steps.length}, ${s.canary} at ${s.weight} % against ${s.baseline}`
}

export function formatRollout (s: RolloutState): string {
  const gates = s.pauseAt.length === 0 ? '' : `; manual gate after ${s.pauseAt.join(', ')} %`
  const lines = [
    headline(s),
    `  steps ${s.steps.join(', ')} %${gates}; started ${s.createdAt} from revision ${s.startRevision} (weights ${JSON.stringify(s.startWeights)})`,
    `  ${s.message}`
  ]
  if (s.lastVerdict !== undefined) lines.push(...formatVerdict(s.lastVerdict).map(l => `  ${l}`))
  if (s.decisions.length > 0) lines.push('  decisions:', ...s.decisions.map(d => `  ${decision(d)}`))
  return lines.join('\n')
}
