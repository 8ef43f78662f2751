/** Runs a fast-check property as one tap assertion, reporting the counterexample on failure. */
import fc from 'fast-check'

interface Asserter { ok (value: unknown, message: string, extra: Record<string, unknown>): boolean }

export function holds<Ts> (t: Asserter, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}, message = 'property holds'): boolean {
  const details = fc.check(property, params)
  return t.ok(!details.failed, message, details.failed
    ? { counterexample: details.counterexample, seed: details.seed, path: details.counterexamplePath, error: String(details.errorInstance ?? '') }
    : { runs: details.numRuns })
}
