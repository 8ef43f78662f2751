/**
 * Small, fast, stable 32-bit hashing for sticky assignment. Stable means the
 * same on every replica and every Node version (only integer arithmetic), so
 * that replicas agree on a user's version without sharing state.
 * The mixing steps are MurmurHash3's (public domain).
 */

/** MurmurHash3's finaliser: a bijection on 32-bit integers with full avalanche. */
export function fmix32 (input: number): number {
  let h = input
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Hashes a string's UTF-16 code units with a seed (MurmurHash3 body, one unit per round). */
export function hashString (s: string, seed: number): number {
  let h = seed | 0
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  return fmix32(h ^ s.length)
}

export const SEED_A = 0x5157a7d1
export const SEED_B = 0x2c1b3c6d

/** The two key hashes of the last `hashKeyPair` call (module slots: no array per call on the hot path). */
export let keyHashA = 0
export let keyHashB = 0

/**
 * hashString(s, SEED_A) and hashString(s, SEED_B) in one pass over `s`
 * (sticky keys are hashed once per request; the two states share the
 * per-character mixing).
 */
export function hashKeyPair (s: string): void {
  let a = SEED_A | 0
  let b = SEED_B | 0
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    a ^= k
    a = (a << 13) | (a >>> 19)
    a = (Math.imul(a, 5) + 0xe6546b64) | 0
    b ^= k
    b = (b << 13) | (b >>> 19)
    b = (Math.imul(b, 5) + 0xe6546b64) | 0
  }
  keyHashA = fmix32(a ^ s.length)
  keyHashB = fmix32(b ^ s.length)
}
