/** Summaries of simulated runs and the markdown tables of docs/judge-simulation.md. */
import type { Effect, RunResult } from './simulate.js'

export interface Summary {
  readonly runs: number
  /** Rolled back: worse or critical. */
  readonly rolledBack: number
  readonly passed: number
  readonly srm: number
  /** Neither within the cap, or inconclusive at max-step. */
  readonly undecided: number
  /** Canary requests at the roll-back, nearest-rank median and p90 over the rolled-back runs. */
  readonly catchCanary: Quantiles | undefined
  /** All requests (both arms) at the pass, over the passed runs. */
  readonly passRequests: Quantiles | undefined
}

export interface Quantiles {
  readonly median: number
  readonly p90: number
}

function quantiles (xs: readonly number[]): Quantiles | undefined {
  if (xs.length === 0) return undefined
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
  return { median: rank(0.5), p90: rank(0.9) }
}

export function summarize (results: readonly RunResult[]): Summary {
  const rolledBack = results.filter(r => r.outcome === 'worse' || r.outcome === 'critical')
  const passed = results.filter(r => r.outcome === 'pass')
  const srm = results.filter(r => r.outcome === 'srm').length
  return {
    runs: results.length,
    rolledBack: rolledBack.length,
    passed: passed.length,
    srm,
    undecided: results.length - rolledBack.length - passed.length - srm,
    catchCanary: quantiles(rolledBack.map(r => r.canaryRequests)),
    passRequests: quantiles(passed.map(r => r.requests))
  }
}

export function effectName (e: Effect): string {
  switch (e.kind) {
    case 'none': return 'healthy'
    case 'errors': return `errors ×${e.factor}`
    case 'tail': return `tail ×${e.factor}`
  }
}

const pct = (n: number, of: number): string => `${(100 * n / of).toFixed(1)} %`
const int = (n: number | undefined): string => n === undefined ? '–' : n.toLocaleString('en-US')

export interface Row {
  readonly share: number
  readonly effect: Effect
  readonly summary: Summary
}

/** The healthy canary: how often it is rolled back (must be ≤ α) and how long it takes to pass. */
export function healthyTable (rows: readonly Row[]): string {
  const lines = [
    '| canary share | runs | false rollbacks | SRM pauses | passed | undecided at cap | requests to pass, median | p90 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const { share, summary: s } of rows) {
    lines.push(`| ${100 * share} % | ${s.runs} | ${s.rolledBack} (${pct(s.rolledBack, s.runs)}) | ${s.srm} | ${pct(s.passed, s.runs)} | ${pct(s.undecided, s.runs)} | ${int(s.passRequests?.median)} | ${int(s.passRequests?.p90)} |`)
  }
  return lines.join('\n')
}

/** Bad canaries: how often and how fast they are caught, in canary requests. */
export function badTable (rows: readonly Row[]): string {
  const lines = [
    '| canary share | effect | runs | caught | passed | undecided at cap | canary requests to catch, median | p90 |',
    '|---:|:---|---:|---:|---:|---:|---:|---:|'
  ]
  for (const { share, effect, summary: s } of rows) {
    lines.push(`| ${100 * share} % | ${effectName(effect)} | ${s.runs} | ${pct(s.rolledBack, s.runs)} | ${pct(s.passed, s.runs)} | ${pct(s.undecided, s.runs)} | ${int(s.catchCanary?.median)} | ${int(s.catchCanary?.p90)} |`)
  }
  return lines.join('\n')
}
