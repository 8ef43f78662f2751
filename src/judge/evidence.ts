/**
 * One look at one test, and the evidence a step carries from look to look.
 *
 * The always-valid p-value of a mixture SPRT is the smallest 1/BF seen so
 * far, capped at 1 (Johari, Pekelis & Walsh, "Always valid inference", 2017;
 * Optimizely's Stats Engine): it can only fall, and P(it ever falls below α)
 * ≤ α under the null. So a step keeps one number per test, the running
 * minimum, and a look that rejects stays rejected — also across a restart,
 * when the evidence is persisted with the step.
 */

export type TestId =
  | 'errors.worse' | 'errors.noWorse' | 'errors.negligible'
  | 'latency.worse' | 'latency.noWorse' | 'latency.negligible'
  | 'srm.low' | 'srm.high'
  | 'guardrail.errorRate' | 'guardrail.latency'

/** Running-minimum p-value per test, from the step's earlier looks. */
export type Evidence = Readonly<Partial<Record<TestId, number>>>

export interface TestResult {
  readonly id: TestId
  /** The null hypothesis in words, for `rollout status`. */
  readonly hypothesis: string
  /** The Bayes factor at this look (capped at the largest double). */
  readonly bayesFactor: number
  /** Always-valid p-value: min over the step's looks of 1/BF, at most 1. */
  readonly pValue: number
  /** The test rejects its hypothesis once pValue ≤ level. */
  readonly level: number
  readonly rejected: boolean
}

/**
 * The result of a look with ln BF = `lnBf`. A NaN (which the tests never
 * produce; see the property tests) counts as no evidence rather than
 * poisoning the running minimum.
 */
export function look (id: TestId, hypothesis: string, lnBf: number, evidence: Evidence, level: number): TestResult {
  const ln = Number.isNaN(lnBf) ? 0 : lnBf
  const pValue = Math.min(1, evidence[id] ?? 1, Math.exp(-ln))
  return { id, hypothesis, bayesFactor: Math.min(Math.exp(ln), Number.MAX_VALUE), pValue, level, rejected: pValue <= level }
}

/** The evidence after a look, to store with the step for the next one. */
export function evidenceOf (results: readonly TestResult[]): Evidence {
  const out: Partial<Record<TestId, number>> = {}
  for (const r of results) out[r.id] = r.pValue
  return out
}
