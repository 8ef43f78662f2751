/**
 * The rollouts' metrics: where each rollout stands (step, canary weight,
 * phase) and a counter of the judge's decisions by outcome. The control
 * plane's controller is read through `RolloutGauges` (this folder does not
 * import the control plane); gauges are rebuilt on every scrape from the
 * rollouts the controller knows.
 */
import { Counter, Gauge, type Registry } from 'prom-client'

/** The phases a rollout can be in (the phase gauge has one series per phase, 1 for the current). */
export const ROLLOUT_PHASES = ['Progressing', 'Paused', 'Succeeded', 'Aborted'] as const

export interface RolloutGauge {
  readonly route: string
  readonly canary: string
  readonly phase: typeof ROLLOUT_PHASES[number]
  /** 1-based. */
  readonly step: number
  /** The canary's percentage of the route. */
  readonly weight: number
}

export interface RolloutMetrics {
  /** A look decided: pass, worse, critical, srm, inconclusive-timeout (not the looks that keep waiting). */
  judged (route: string, outcome: string): void
}

export function createRolloutMetrics (registry: Registry, rollouts: () => readonly RolloutGauge[]): RolloutMetrics {
  const registers = [registry]
  /** A gauge rebuilt from the rollouts at every scrape (taken once with --workers: only the primary has rollouts). */
  function gauge<L extends string> (name: string, help: string, labelNames: readonly L[], set: (g: Gauge<L>, r: RolloutGauge) => void): void {
    const g: Gauge<L> = new Gauge({
      name,
      help,
      labelNames,
      registers,
      aggregator: 'first',
      collect () {
        g.reset()
        for (const r of rollouts()) set(g, r)
      }
    })
  }
  gauge('switchyard_rollout_step', 'The step a route\'s rollout is at (1-based), kept after it ends until the next rollout of the route',
    ['route'], (g, r) => g.set({ route: r.route }, r.step))
  gauge('switchyard_rollout_weight', 'The canary\'s percentage of the route\'s traffic as its rollout set it',
    ['route', 'backend'], (g, r) => g.set({ route: r.route, backend: r.canary }, r.weight))
  gauge('switchyard_rollout_phase', 'Always one series per phase of each route\'s rollout: 1 for the phase it is in, 0 for the others',
    ['route', 'phase'], (g, r) => { for (const p of ROLLOUT_PHASES) g.set({ route: r.route, phase: p }, p === r.phase ? 1 : 0) })
  const judgements = new Counter<'route' | 'outcome'>({
    name: 'switchyard_rollout_judgements_total',
    help: 'Decisions of the rollout judge by outcome: pass, worse, critical, srm, inconclusive-timeout',
    labelNames: ['route', 'outcome'],
    registers
  })
  return { judged: (route, outcome) => { judgements.inc({ route, outcome }) } }
}
