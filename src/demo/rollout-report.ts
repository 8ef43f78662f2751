/** The rollout demo's summary: counts per step and version, and the checks on them. */
import type { Tally } from './rollout-client.js'

export interface Step {
  readonly label: string
  /** Share of new requests sent to 0.6. */
  readonly percent: number
  /** Requests sent once this step's weights were live. */
  readonly live: Tally
  /** Requests sent while switching to this step: either version may answer them. */
  readonly switching: Tally
}

const VERSIONS = ['0.5', '0.6']

function row (label: string, t: Tally): string {
  const counts = VERSIONS.map(v => String(t.versions.get(v) ?? 0).padStart(6))
  return `${label.padEnd(24)}${counts.join('')}${String(t.failed).padStart(8)}`
}

function sum (tallies: readonly Tally[]): Tally {
  const versions = new Map<string, number>()
  let failed = 0
  for (const t of tallies) {
    for (const [v, n] of t.versions) versions.set(v, (versions.get(v) ?? 0) + n)
    failed += t.failed
  }
  return { versions, failed }
}

const total = (t: Tally): number => [...t.versions.values()].reduce((a, b) => a + b, t.failed)

/** What must hold whatever the randomness: 0 % and 100 % steps are served by one version only. */
export function checkSteps (steps: readonly Step[]): string[] {
  const problems: string[] = []
  for (const s of steps) {
    const only = s.percent === 0 ? '0.5' : s.percent === 100 ? '0.6' : undefined
    if (only === undefined) continue
    for (const [v, n] of s.live.versions) {
      if (v !== only) problems.push(`step "${s.label}": ${n} answer(s) from ${v}, expected only ${only}`)
    }
  }
  return problems
}

/** The summary table; its last line is always `failed requests: N of M`. */
export function summary (steps: readonly Step[]): string[] {
  const switching = sum(steps.map(s => s.switching))
  const all = sum([...steps.map(s => s.live), switching])
  return [
    `${'step'.padEnd(24)}${VERSIONS.map(v => v.padStart(6)).join('')}${'failed'.padStart(8)}`,
    ...steps.map(s => row(s.label, s.live)),
    row('while switching', switching),
    ...checkSteps(steps).map(p => `CHECK FAILED: ${p}`),
    `failed requests: ${all.failed} of ${total(all)}`
  ]
}
