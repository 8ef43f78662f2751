/**
 * Weighted choice, as properties over all inputs (fast-check): distribution
 * within ±2 % of the weights, weight 0 never chosen, and sticky assignment
 * (weighted rendezvous hashing) moving the fewest users when weights change.
 */
import t from 'tap'
import fc from 'fast-check'
import { holds } from '../helpers/property.js'
import { buildWeightTable, pickRandom, pickSticky, type WeightTable } from '../../src/routing/weighted.js'

const NAMES = ['stable', 'canary', 'blue', 'green', 'a', 'b', 'c']

function tableFor (weights: readonly number[]): WeightTable<string> {
  return buildWeightTable(weights.map((weight, i) => ({ item: NAMES[i] as string, name: NAMES[i] as string, weight })))
}

/** 2–5 backends, integer weights 0..1000, at least one > 0. */
const weightsArb = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 5 })
  .filter(ws => ws.some(w => w > 0))

const keysArb = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 50, maxLength: 200 })

function shares (picks: readonly string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const p of picks) m.set(p, (m.get(p) ?? 0) + 1)
  for (const [k, v] of m) m.set(k, v / picks.length)
  return m
}

t.test('pickRandom: weight 0 is never chosen; the choice follows the cumulative weights exactly', async t => {
  holds(t, fc.property(weightsArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ws, r) => {
    const table = tableFor(ws)
    const chosen = pickRandom(table, r)
    const i = NAMES.indexOf(chosen)
    if ((ws[i] ?? 0) === 0) return false
    // r·total falls inside the chosen backend's interval
    const total = ws.reduce((a, b) => a + b, 0)
    const before = ws.slice(0, i).reduce((a, b) => a + b, 0)
    return r * total >= before && r * total < before + (ws[i] ?? 0)
  }), { numRuns: 2000 })
})

t.test('pickRandom: 10 000 evenly spread draws land within ±2 % of the weights', async t => {
  holds(t, fc.property(weightsArb, ws => {
    const table = tableFor(ws)
    const n = 10_000
    const picks: string[] = []
    for (let k = 0; k < n; k++) picks.push(pickRandom(table, (k + 0.5) / n))
    const s = shares(picks)
    const total = ws.reduce((a, b) => a + b, 0)
    return ws.every((w, i) => Math.abs((s.get(NAMES[i] as string) ?? 0) - w / total) <= 0.02)
  }), { numRuns: 200 })
})

t.test('pickSticky: the same key always gets the same backend, weight 0 never', async t => {
  holds(t, fc.property(weightsArb, fc.string(), (ws, key) => {
    const table = tableFor(ws)
    const a = pickSticky(table, key)
    const b = pickSticky(tableFor([...ws]), key) // a fresh table: no hidden state
    return a === b && (ws[NAMES.indexOf(a)] ?? 0) > 0
  }), { numRuns: 2000 })
})

t.test('pickSticky: raising one weight only moves users onto that backend', async t => {
  holds(t, fc.property(weightsArb, fc.nat({ max: 4 }), fc.integer({ min: 1, max: 1000 }), keysArb, (ws, which, raise, keys) => {
    const i = which % ws.length
    const after = ws.map((w, j) => j === i ? w + raise : w)
    const t0 = tableFor(ws)
    const t1 = tableFor(after)
    return keys.every(k => {
      const before = pickSticky(t0, k)
      const now = pickSticky(t1, k)
      return now === before || now === NAMES[i]
    })
  }), { numRuns: 300 })
})

t.test('pickSticky: lowering one weight only moves that backend\'s users off', async t => {
  holds(t, fc.property(weightsArb, fc.nat({ max: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), keysArb, (ws, which, factor, keys) => {
    const i = which % ws.length
    const after = ws.map((w, j) => j === i ? Math.floor(w * factor) : w)
    if (!after.some(w => w > 0)) return true // all-zero splits are config errors
    const t0 = tableFor(ws)
    const t1 = tableFor(after)
    return keys.every(k => {
      const before = pickSticky(t0, k)
      const now = pickSticky(t1, k)
      return now === before || before === NAMES[i]
    })
  }), { numRuns: 300 })
})

t.test('pickSticky: a canary ramp 0 → 100 % never sends a canary user back to stable', async t => {
  const keys = Array.from({ length: 2000 }, (_, k) => `user-${k}`)
  let previous = new Map(keys.map(k => [k, 'stable']))
  for (let canary = 0; canary <= 100; canary += 5) {
    const table = tableFor([100 - canary, canary])
    const now = new Map(keys.map(k => [k, pickSticky(table, k)]))
    for (const k of keys) {
      if (previous.get(k) === 'canary') t.equal(now.get(k), 'canary', `user ${k} stays on canary at ${canary} %`)
    }
    const share = [...now.values()].filter(v => v === 'canary').length / keys.length
    t.ok(Math.abs(share - canary / 100) <= 0.03, `canary share ${share.toFixed(3)} at ${canary} %`)
    previous = now
  }
  t.end()
})

t.test('pickSticky: 10 000 users land within ±2 % of the weights', async t => {
  holds(t, fc.property(weightsArb, fc.nat(), (ws, salt) => {
    const table = tableFor(ws)
    const picks: string[] = []
    for (let k = 0; k < 10_000; k++) picks.push(pickSticky(table, `${salt}-${k}`))
    const s = shares(picks)
    const total = ws.reduce((a, b) => a + b, 0)
    return ws.every((w, i) => Math.abs((s.get(NAMES[i] as string) ?? 0) - w / total) <= 0.02)
  }), { numRuns: 60 })
})

t.test('pickSticky: 1:999 gives about 0.1 %', async t => {
  const table = tableFor([999, 1])
  let canary = 0
  const n = 200_000
  for (let k = 0; k < n; k++) if (pickSticky(table, `u${k}`) === 'canary') canary++
  t.ok(Math.abs(canary / n - 0.001) < 0.0003, `canary share ${canary / n}`)
})

t.test('buildWeightTable rejects all-zero weights', async t => {
  t.throws(() => tableFor([0, 0]), RangeError)
})

t.test('hashKeyPair equals two hashString passes', async t => {
  const hash = await import('../../src/routing/hash.js')
  holds(t, fc.property(fc.string({ maxLength: 64 }), s => {
    hash.hashKeyPair(s)
    return hash.keyHashA === hash.hashString(s, hash.SEED_A) && hash.keyHashB === hash.hashString(s, hash.SEED_B)
  }), { numRuns: 2000 })
})

t.test('assignments are stable across releases (golden values: changing them moves users)', async t => {
  const table = tableFor([50, 50])
  t.equal(Array.from({ length: 16 }, (_, i) => pickSticky(table, `user-${i}`) === 'stable' ? 's' : 'c').join(''), 'cscscsssscccscsc')
})
