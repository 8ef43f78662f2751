/**
 * The judge proved offline: seeded traffic through judge() with no sockets.
 * A run is one rollout step: requests split between canary and baseline by
 * the weight, each an error with its arm's probability and slow with its
 * arm's chance of exceeding the step's frozen threshold; the judge looks at
 * growing totals until it decides (worse, critical, pass, srm) or the cap.
 *
 * Counts per look are drawn as binomials (random.ts) rather than request by
 * request, so a run of millions of requests takes milliseconds; the judge
 * sees exactly what it would see from the proxy's counters.
 */
import type { JudgeConfig } from '../../src/judge/config.js'
import type { Buckets, Counters } from '../../src/judge/counters.js'
import { judge } from '../../src/judge/judge.js'
import { startStep, type Step } from '../../src/judge/step.js'
import type { Outcome } from '../../src/judge/verdict.js'
import { DURATION_BUCKETS } from '../../src/observability/series-cell.js'
import { binomial, normalCdf, normalQuantile, splitmix32, type Rand } from './random.js'

/** Log-normal request durations: median in seconds, σ of the log. */
export interface LatencyModel {
  readonly median: number
  readonly sigma: number
}

export type Effect =
  | { readonly kind: 'none' }
  /** The canary's error rate is `factor` × the baseline's. */
  | { readonly kind: 'errors', readonly factor: number }
  /** The canary's slowest `share` of requests take `factor` × longer. */
  | { readonly kind: 'tail', readonly factor: number, readonly share: number }

export interface Scenario {
  /** The canary's weight, which is also its true share of requests (no SRM). */
  readonly share: number
  readonly effect: Effect
  readonly baselineErrorRate: number
  readonly latency: LatencyModel
  readonly config: JudgeConfig
  /** A run that reaches this many requests (both arms) without a decision ends as 'cap'. */
  readonly maxRequests: number
  /** Baseline requests in the window before the step, for its p99 threshold. */
  readonly previousWindow: number
  /** Requests per second, to turn counts into the judge's clock. */
  readonly rps: number
}

export interface RunResult {
  readonly outcome: Outcome | 'cap'
  readonly canaryRequests: number
  readonly requests: number
}

/** P(duration > x) for the baseline's log-normal. */
function survival (m: LatencyModel, x: number): number {
  return 1 - normalCdf((Math.log(x) - Math.log(m.median)) / m.sigma)
}

/** P(duration > x) for the canary under `effect`. */
export function canarySurvival (m: LatencyModel, effect: Effect, x: number): number {
  if (effect.kind !== 'tail') return survival(m, x)
  // q: where the slowest `share` starts; those durations are multiplied by `factor`.
  const q = Math.exp(Math.log(m.median) + m.sigma * normalQuantile(1 - effect.share))
  const stretched = survival(m, Math.max(q, x / effect.factor))
  return (x < q ? survival(m, x) - effect.share : 0) + stretched
}

/** `n` baseline durations over the proxy's histogram bounds: sequential binomials of a multinomial. */
function histogram (m: LatencyModel, n: number, rand: Rand): Buckets {
  const out = new Map<number, number>()
  let left = n
  let below = 0
  let pBelow = 0
  for (const bound of DURATION_BUCKETS) {
    const p = 1 - survival(m, bound)
    const inBucket = binomial(left, (p - pBelow) / Math.max(1e-300, 1 - pBelow), rand)
    left -= inBucket
    below += inBucket
    pBelow = p
    out.set(bound, below)
  }
  out.set(Infinity, n)
  return out
}

interface Arm { requests: number, errors: number, slow: number }

function reading (a: Arm, threshold: number): { requests: number, errors: number, buckets: Buckets } {
  return { requests: a.requests, errors: a.errors, buckets: new Map([[threshold, a.requests - a.slow], [Infinity, a.requests]]) }
}

const DECISIVE = new Set<Outcome>(['worse', 'critical', 'pass', 'srm', 'inconclusive-timeout'])

export function simulateRun (s: Scenario, seed: number): RunResult {
  const rand = splitmix32(seed)
  const zero = new Map(DURATION_BUCKETS.map(b => [b, 0] as const))
  const start: Counters = { canary: { requests: 0, errors: 0, buckets: zero }, baseline: { requests: 0, errors: 0, buckets: zero } }
  let step: Step = startStep({ config: s.config, weight: s.share, now: 0, counters: start, previousBaseline: histogram(s.latency, s.previousWindow, rand) })
  const threshold = step.threshold?.seconds ?? Infinity
  const errorRate = { canary: s.baselineErrorRate * (s.effect.kind === 'errors' ? s.effect.factor : 1), baseline: s.baselineErrorRate }
  const slowRate = { canary: canarySurvival(s.latency, s.effect, threshold), baseline: survival(s.latency, threshold) }
  const canary: Arm = { requests: 0, errors: 0, slow: 0 }
  const baseline: Arm = { requests: 0, errors: 0, slow: 0 }
  let total = 0
  while (total < s.maxRequests) {
    // Looks at totals 5 % apart (at least 20 requests): ~280 looks up to 1 M, fine-grained early on.
    const batch = Math.min(s.maxRequests - total, Math.max(20, Math.ceil(total * 0.05)))
    const toCanary = binomial(batch, s.share, rand)
    for (const [a, n, arm] of [[canary, toCanary, 'canary'], [baseline, batch - toCanary, 'baseline']] as const) {
      a.requests += n
      a.errors += binomial(n, errorRate[arm], rand)
      a.slow += binomial(n, slowRate[arm], rand)
    }
    total += batch
    const v = judge(step, { canary: reading(canary, threshold), baseline: reading(baseline, threshold) }, 1000 * total / s.rps)
    if (DECISIVE.has(v.outcome)) return { outcome: v.outcome, canaryRequests: canary.requests, requests: total }
    step = { ...step, evidence: v.evidence }
  }
  return { outcome: 'cap', canaryRequests: canary.requests, requests: total }
}

/** The seed of run `i` of a cell: every run independent, every cell reproducible on its own. */
function runSeed (cellSeed: number, i: number): number {
  return (cellSeed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0
}

export function simulateCell (s: Scenario, runs: number, cellSeed: number): RunResult[] {
  return Array.from({ length: runs }, (_, i) => simulateRun(s, runSeed(cellSeed, i)))
}
