/**
 * The pure parts of a rollout: checking what was asked, the weights of a
 * step, and what each verdict does. No IO, no clock.
 */
import { currentWeights } from '../../config/edit.js'
import type { RawConfig } from '../../config/schema.js'
import { SwitchyardError } from '../../errors.js'
import { judgeConfig, judgeConfigProblems, type JudgeConfig } from '../../judge/config.js'
import type { Outcome } from '../../judge/verdict.js'
import type { RolloutSpec, RolloutState } from './model.js'

/** What a rollout checked at its start: the arms, the steps, and the judge's config. */
export interface Checked {
  readonly route: string
  readonly canary: string
  readonly baseline: string
  readonly steps: readonly number[]
  readonly pauseAt: readonly number[]
  readonly config: JudgeConfig
  readonly startWeights: Readonly<Record<string, number>>
}

function invalid (problems: readonly string[]): SwitchyardError {
  return new SwitchyardError('SY_ERR_ROLLOUT_INVALID', `the rollout is invalid: ${problems.join('; ')}`, { problems })
}

/** Checks a spec against the running config; throws SY_ERR_ADMIN_UNKNOWN_ROUTE or SY_ERR_ROLLOUT_INVALID with every problem. */
export function checkSpec (spec: RolloutSpec, config: RawConfig): Checked {
  const route = config.routes.find(r => r.name === spec.route)
  if (route === undefined) {
    throw new SwitchyardError('SY_ERR_ADMIN_UNKNOWN_ROUTE', `no route named ${JSON.stringify(spec.route)} (routes: ${config.routes.map(r => r.name).join(', ')})`)
  }
  const backends = new Set(Object.keys(config.backends))
  const startWeights = currentWeights(route)
  const problems: string[] = []
  if (!backends.has(spec.canary)) problems.push(`backend ${JSON.stringify(spec.canary)} is not defined`)
  // The baseline by default: the backend with the most of the route's traffic besides the canary.
  const heaviest = Object.entries(startWeights).filter(([b]) => b !== spec.canary).sort((a, b) => b[1] - a[1])[0]?.[0]
  const baseline = spec.baseline ?? heaviest
  if (baseline === undefined) problems.push(`route ${spec.route} sends traffic to no backend besides ${spec.canary}: name one with --baseline`)
  else if (!backends.has(baseline)) problems.push(`baseline ${JSON.stringify(baseline)} is not a defined backend`)
  else if (baseline === spec.canary) problems.push('the baseline and the canary are the same backend')
  if (spec.steps.length === 0) problems.push('steps: at least one step is needed')
  spec.steps.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1 || s > 100) problems.push(`steps[${i}]: ${s} is not a whole percentage from 1 to 100`)
    else if (i > 0 && s <= (spec.steps[i - 1] ?? 0)) problems.push(`steps must increase: ${spec.steps.join(', ')}`)
  })
  for (const p of spec.pauseAt ?? []) {
    if (!spec.steps.includes(p)) problems.push(`pause-at ${p} is not one of the steps (${spec.steps.join(', ')})`)
  }
  const judge = judgeConfig(spec.judge)
  problems.push(...judgeConfigProblems(judge).map(p => `judge.${p}`))
  if (problems.length > 0) throw invalid(problems)
  return { route: spec.route, canary: spec.canary, baseline: baseline as string, steps: spec.steps, pauseAt: spec.pauseAt ?? [], config: judge, startWeights }
}

/**
 * The route's weights at `percent` for the canary: the baseline takes what
 * the canary and the other backends leave of 100, the others keep theirs.
 */
export function weightsAt (s: Pick<RolloutState, 'canary' | 'baseline' | 'startWeights'>, percent: number): Record<string, number> {
  const others = Object.entries(s.startWeights).filter(([b]) => b !== s.canary && b !== s.baseline).reduce((sum, [, w]) => sum + w, 0)
  return { [s.canary]: percent, [s.baseline]: Math.max(0, 100 - others - percent) }
}

/** The canary's share of the two arms' traffic at these weights: what the sample-ratio check expects. */
export function shareOf (s: Pick<RolloutState, 'canary' | 'baseline'>, weights: Readonly<Record<string, number>>): number {
  const c = weights[s.canary] ?? 0
  const b = weights[s.baseline] ?? 0
  return c + b === 0 ? 0 : c / (c + b)
}

/** The weights abort restores: the start's, with the canary and baseline named even when they had none. */
export function restoreWeights (s: Pick<RolloutState, 'canary' | 'baseline' | 'startWeights'>): Record<string, number> {
  return { ...s.startWeights, [s.canary]: s.startWeights[s.canary] ?? 0, [s.baseline]: s.startWeights[s.baseline] ?? 0 }
}

/** What the controller does with a verdict. */
export type Action = 'abort' | 'pause' | 'gate' | 'advance' | 'continue'

export function actionOf (outcome: Outcome, atGate: boolean): Action {
  switch (outcome) {
    case 'worse':
    case 'critical':
      return 'abort'
    case 'srm':
    case 'inconclusive-timeout':
      return 'pause'
    case 'pass':
      return atGate ? 'gate' : 'advance'
    case 'inconclusive-continue':
      return 'continue'
  }
}
