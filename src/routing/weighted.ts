/**
 * Weighted choice among backends, the two ways a split decides:
 * - `pickRandom`: an independent draw per request (no stickiness), by walking
 *   the cumulative weights with an injected random number (Envoy-style: the
 *   caller supplies randomness, so the function stays pure and testable).
 * - `pickSticky`: weighted rendezvous hashing (highest random weight, the
 *   logarithmic method of Schindelhauer & Schomaker). Each backend b gets the
 *   score w_b / -ln(u_b(key)), u uniform in (0,1) from a hash of the key and
 *   b's name; the highest score wins. It needs no shared state (any replica
 *   computes the same answer) and moves as few users as possible when weights
 *   change: raising w_b raises only b's score, so users can only move onto b;
 *   lowering it lowers only b's score, so only b's users move off. A user
 *   lands on b with probability w_b / Σw.
 */
import { fmix32, hashKeyPair, hashString, keyHashA, keyHashB, SEED_A, SEED_B } from './hash.js'

/** A split compiled for both pickers; the arrays hold backends with weight > 0 only. */
export interface WeightTable<T> {
  readonly live: readonly T[]
  readonly liveWeights: readonly number[]
  /** cumulative[i] = Σ liveWeights[0..i] */
  readonly cumulative: readonly number[]
  readonly total: number
  /** Per live backend, two 32-bit seeds derived from its name (not its position). */
  readonly seedsA: Uint32Array
  readonly seedsB: Uint32Array
}

export function buildWeightTable<T> (entries: ReadonlyArray<{ item: T, name: string, weight: number }>): WeightTable<T> {
  const liveEntries = entries.filter(e => e.weight > 0)
  if (liveEntries.length === 0) throw new RangeError('a split needs at least one weight > 0')
  const cumulative: number[] = []
  let total = 0
  for (const e of liveEntries) {
    total += e.weight
    cumulative.push(total)
  }
  return {
    live: liveEntries.map(e => e.item),
    liveWeights: liveEntries.map(e => e.weight),
    cumulative,
    total,
    seedsA: Uint32Array.from(liveEntries, e => hashString(e.name, SEED_A)),
    seedsB: Uint32Array.from(liveEntries, e => hashString(e.name, SEED_B))
  }
}

/**
 * Each entry's share of the total weight in percent, to three decimals:
 * how status, explain and the traffic diff all state a split.
 */
export function percentages (entries: ReadonlyArray<{ readonly name: string, readonly weight: number }>): Record<string, number> {
  const total = entries.reduce((a, e) => a + e.weight, 0)
  return Object.fromEntries(entries.map(e => [e.name, total === 0 ? 0 : Math.round(100_000 * e.weight / total) / 1000]))
}

/** `rand` in [0, 1). */
export function pickRandom<T> (table: WeightTable<T>, rand: number): T {
  const live = table.live
  if (live.length === 1) return live[0] as T
  const r = rand * table.total
  const cumulative = table.cumulative
  for (let i = 0; i < cumulative.length; i++) {
    if (r < (cumulative[i] as number)) return live[i] as T
  }
  return live[live.length - 1] as T
}

const TWO_POW_21 = 2 ** 21
const TWO_POW_53 = 2 ** 53

/** The hash-derived uniform u in (0, 1) for key hashes (a, b) and a backend's seeds. */
export function unitHash (keyA: number, keyB: number, seedA: number, seedB: number): number {
  const hi = fmix32(keyA ^ seedA)
  const lo = fmix32((keyB ^ seedB ^ hi) >>> 0)
  // 53 random bits, offset by half a step so u is never 0 or 1.
  return (hi * TWO_POW_21 + (lo >>> 11) + 0.5) / TWO_POW_53
}

export function pickSticky<T> (table: WeightTable<T>, key: string): T {
  const live = table.live
  if (live.length === 1) return live[0] as T
  hashKeyPair(key)
  const keyA = keyHashA
  const keyB = keyHashB
  let best = 0
  let bestScore = -1
  for (let i = 0; i < live.length; i++) {
    const u = unitHash(keyA, keyB, table.seedsA[i] as number, table.seedsB[i] as number)
    const score = (table.liveWeights[i] as number) / -Math.log(u)
    if (score > bestScore) {
      bestScore = score
      best = i
    }
  }
  return live[best] as T
}
