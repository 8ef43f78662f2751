/**
 * One look at a step, pure: the judge's verdict on the step's window, the
 * rollout with the new counts and evidence, and what to do. The window
 * starts at an anchor: counter readings this process took when the step
 * began (or when it took the step over after a restart or a change of
 * leader), plus what the step had counted before.
 */
import { plus, since, type Counters } from '../../judge/counters.js'
import { judgeConfig } from '../../judge/config.js'
import { judge } from '../../judge/judge.js'
import type { Step } from '../../judge/step.js'
import type { Verdict } from '../../judge/verdict.js'
import { countersFromJson, countersToJson, type CountersJson, type DecisionEntry, type RolloutState, type StepState } from './model.js'
import { actionOf, type Action } from './plan.js'

export interface Anchor {
  /** Which step this anchor belongs to (anchorKey). */
  readonly key: string
  readonly start: Counters
  readonly carried: Counters | undefined
}

export const anchorKey = (s: RolloutState): string => `${s.createdAt}|${s.step.index}|${s.step.startedAt}`

export interface Look {
  readonly verdict: Verdict
  readonly action: Action
  /** The rollout with the step's counts, evidence and last verdict. */
  readonly state: RolloutState
}

/** A look in one process (or its workers): the window runs from the anchor this process took. */
export function judgeLook (s: RolloutState, reading: Counters, anchor: Anchor, now: number): Look {
  return lookAt(s, reading, anchor.start, anchor.carried, s.step.marks, now)
}

/**
 * A look in a fleet: to the step's counts so far, each member's increase
 * since its mark at the previous look (whoever took it); a member first
 * seen since then counts whole (it started after that look). A step's first
 * look in the fleet only sets the marks: its window opens there.
 *
 * A member missing from this reading keeps its mark: one that dropped out
 * of the member list for a while (its lease lapsed in a store outage while
 * it kept serving) counts its increase since that mark when it is back, not
 * its whole history. Marks last one step (the next step takes new ones).
 */
export function judgeFleetLook (s: RolloutState, members: ReadonlyMap<string, Counters>, now: number): Look {
  const marks = s.step.marks
  let window = s.step.counted === undefined ? undefined : countersFromJson(s.step.counted)
  const readings = [...members.values()]
  if (marks !== undefined) {
    for (const [id, reading] of members) {
      const mark = marks[id]
      const increase = mark === undefined ? reading : since(reading, countersFromJson(mark))
      window = window === undefined ? increase : plus(window, increase)
    }
  }
  // Nothing counted yet: an empty window shaped like the readings (sticky units or not).
  const first = readings[0] as Counters
  window ??= since(first, first)
  return lookAt(s, window, since(window, window), undefined, { ...marks, ...marksOf(members) }, now)
}

/** Members' readings as the state keeps them. */
export function marksOf (members: ReadonlyMap<string, Counters>): Record<string, CountersJson> {
  return Object.fromEntries([...members].map(([id, c]) => [id, countersToJson(c)]))
}

function lookAt (s: RolloutState, reading: Counters, start: Counters, carried: Counters | undefined, marks: StepState['marks'], now: number): Look {
  const step: Step = {
    config: judgeConfig(s.judge),
    weight: s.step.share,
    // A manual pause does not count toward min- and max-step.
    startedAt: s.step.startedAt + s.step.pausedMs,
    start,
    carried,
    threshold: s.step.threshold,
    guardrailBound: s.step.guardrailBound,
    evidence: s.step.evidence
  }
  const verdict = judge(step, reading, now)
  const window = carried === undefined ? since(reading, start) : plus(carried, since(reading, start))
  return {
    verdict,
    action: actionOf(verdict.outcome, s.pauseAt.includes(s.weight)),
    state: { ...s, lastVerdict: verdict, step: { ...s.step, counted: countersToJson(window), evidence: verdict.evidence, ...(marks === undefined ? {} : { marks }) } }
  }
}

export function emptyStep (index: number, share: number): StepState {
  return { index, share, startedAt: 0, threshold: undefined, guardrailBound: undefined, counted: undefined, evidence: {}, pausedMs: 0 }
}

/** The baseline's durations over the current step: the next step's threshold comes from them. */
export function previousBaseline (s: RolloutState): Counters['baseline']['buckets'] | undefined {
  return s.step.counted === undefined ? undefined : countersFromJson(s.step.counted).baseline.buckets
}

export function decisionOf (s: RolloutState, v: Verdict, action: Action, now: number): DecisionEntry {
  return { at: new Date(now).toISOString(), step: s.step.index + 1, weight: s.weight, outcome: v.outcome, rule: v.rule, reason: v.reason, action }
}
