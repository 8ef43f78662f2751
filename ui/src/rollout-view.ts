/**
 * The Rollouts page's rules, apart from its markup: which commands a phase
 * allows (as the controller does: anything else is a 409), the steps with
 * where the rollout stands, the start form's lists, and the sentence that
 * says what a command did. Pure: unit-tested in test/ui/.
 */
import type { Rollout, RolloutPhase } from './types.js'

export type Command = 'pause' | 'resume' | 'promote' | 'abort'

const ALLOWED: Readonly<Record<RolloutPhase, readonly Command[]>> = {
  Progressing: ['pause', 'promote', 'abort'],
  Paused: ['resume', 'promote', 'abort'],
  Succeeded: [],
  Aborted: []
}

export function commandsFor (phase: RolloutPhase): readonly Command[] {
  return ALLOWED[phase]
}

export const isActive = (r: Rollout): boolean => r.phase === 'Progressing' || r.phase === 'Paused'

export interface StepView {
  readonly percent: number
  readonly state: 'done' | 'current' | 'next'
  /** A manual gate: the rollout waits for resume after this step passes. */
  readonly gate: boolean
}

/** Each step, and whether it is behind, the one judged now, or ahead (an ended rollout has no current step). */
export function stepsOf (r: Rollout): StepView[] {
  const at = r.step.index
  return r.steps.map((percent, i) => ({
    percent,
    gate: r.pauseAt.includes(percent),
    state: r.phase === 'Succeeded' || i < at ? 'done' : i === at && isActive(r) ? 'current' : 'next'
  }))
}

/**
 * `5, 25 50,100` → [5, 25, 50, 100]. The admin API checks the rest (increasing,
 * 1–100) and answers every problem; this only turns the text into numbers.
 */
export function parsePercentList (text: string): { values: number[], bad: string[] } {
  const parts = text.split(/[\s,]+/).filter(p => p !== '')
  const bad = parts.filter(p => !/^\d+(\.\d+)?%?$/.test(p))
  return { values: parts.filter(p => !bad.includes(p)).map(p => Number(p.replace('%', ''))), bad }
}

/** What a command did, from the rollout before and after: names a step other than the one the page showed. */
export function outcomeOf (command: Command, before: Rollout, after: Rollout): string {
  const where = `${after.phase}${after.pauseReason !== undefined ? ` (${after.pauseReason})` : after.abortReason !== undefined ? ` (${after.abortReason})` : ''}, step ${after.step.index + 1}/${after.steps.length}, ${after.canary} at ${after.weight} %`
  const moved = command === 'promote' ? after.step.index - before.step.index : 0
  const note = command === 'promote' && after.phase !== 'Succeeded' && moved !== 1
    ? ` (the page showed step ${before.step.index + 1}: the rollout moved meanwhile)`
    : ''
  return `${command} ${after.route}: now ${where}${note}`
}
