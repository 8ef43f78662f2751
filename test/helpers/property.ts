/** Runs a fast-check property as one tap assertion, reporting the counterexample on failure. */
import fc from 'fast-check'

interface Asserter { ok (value: unknown, message: string, extra: Record<string, unknown>): boolean }

function report<Ts> (t: Asserter, details: fc.RunDetails<Ts>, message: string): boolean {
  return t.ok(!details.failed, message, details.failed
    ? { counterexample: details.counterexample, seed: details.seed, path: details.counterexamplePath, error: String(details.errorInstance ?? '') }
    : { runs: details.numRuns })
}

export function holds<Ts> (t: Asserter, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}, message = 'property holds'): boolean {
  return report(t, fc.check(property, params), message)
}

/** The same for a property whose predicate is async. */
export async function holdsAsync<Ts> (t: Asserter, property: fc.IAsyncProperty<Ts>, params: fc.Parameters<Ts> = {}, message = 'property holds'): Promise<boolean> {
  return report(t, await fc.check(property, params), message)
}
