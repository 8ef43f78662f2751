/**
 * A fleet's look, pure: the step's count is every member's increase since
 * the step's first look, whoever looked, whichever members were listed at
 * each look, counter restarts allowed for.
 */
import t from 'tap'
import fc from 'fast-check'
import type { Counters } from '../../src/judge/counters.js'
import { emptyStep, judgeFleetLook } from '../../src/control/rollouts/look.js'
import type { RolloutState } from '../../src/control/rollouts/model.js'

const T0 = Date.UTC(2026, 0, 1)

function state (): RolloutState {
  return {
    route: 'web',
    canary: 'canary',
    baseline: 'stable',
    steps: [20, 100],
    pauseAt: [],
    judge: {},
    startWeights: { stable: 100, canary: 0 },
    startRevision: 1,
    phase: 'Progressing',
    message: '',
    step: { ...emptyStep(0, 0.2), startedAt: T0 },
    weight: 20,
    revision: 2,
    routeConfig: '{}',
    decisions: [],
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString()
  }
}

/** One member's cumulative counters: `n` requests, a fifth of them to the canary, none failed, all in one bucket. */
function reading (n: number): Counters {
  const arm = (k: number): Counters['canary'] => ({ requests: k, errors: 0, buckets: new Map([[0.1, k], [Infinity, k]]) })
  return { canary: arm(Math.floor(n / 5)), baseline: arm(n - Math.floor(n / 5)) }
}

const counted = (s: RolloutState): number => (s.step.counted?.canary.requests ?? 0) + (s.step.counted?.baseline.requests ?? 0)

/** Looks with `listed` members at each; returns the step's count after the last. */
function looks (seq: ReadonlyArray<ReadonlyMap<string, Counters>>): RolloutState {
  let s = state()
  seq.forEach((members, i) => { s = judgeFleetLook(s, members, T0 + (i + 1) * 5000).state })
  return s
}

t.test('a member missing from one look counts its increase since its mark when it is back, not its whole history', async t => {
  const s = looks([
    new Map([['a', reading(1000)], ['b', reading(500)]]), // the step's first look: marks only
    new Map([['a', reading(1100)]]), // b's lease lapsed in a store outage; it kept serving
    new Map([['a', reading(1200)], ['b', reading(560)]]) // b listed again
  ])
  t.equal(counted(s), 200 + 60, 'a: 200 since the first look, b: 60 since its mark')
  t.same(Object.keys(s.step.marks ?? {}).sort(), ['a', 'b'])
})

t.test('a member that restarted (its counters went down) counts what it served since its start', async t => {
  const s = looks([
    new Map([['a', reading(1000)], ['b', reading(500)]]),
    new Map([['a', reading(1050)], ['b', reading(30)]])
  ])
  t.equal(counted(s), 50 + 30)
})

t.test('for any listings and readings: the count is each member\'s increase from the step\'s first look to its last listing', async t => {
  // Per look, per member: listed or not, and how much it served since the previous look.
  const member = fc.record({ listed: fc.boolean(), served: fc.nat({ max: 500 }) })
  const members = ['a', 'b', 'c'] as const
  fc.assert(fc.property(
    fc.array(fc.nat({ max: 10_000 }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.tuple(member, member, member), { minLength: 1, maxLength: 8 }),
    (start, steps) => {
      // Multiples of 5 keep the canary's fifth exact, so the arms sum exactly.
      const total = members.map((_, i) => (start[i] as number) * 5)
      const seen = [...total]
      const seq: Array<Map<string, Counters>> = [new Map(members.map((m, i) => [m, reading(total[i] as number)]))]
      for (const look of steps) {
        const listed = new Map<string, Counters>()
        look.forEach((x, i) => {
          total[i] = (total[i] as number) + x.served * 5
          if (x.listed) {
            listed.set(members[i] as string, reading(total[i] as number))
            seen[i] = total[i] as number
          }
        })
        seq.push(listed)
      }
      const expected = seen.reduce((sum, n, i) => sum + n - (start[i] as number) * 5, 0)
      return counted(looks(seq)) === expected
    }), { numRuns: 300 })
  t.pass('held for 300 random listings and readings')
})
