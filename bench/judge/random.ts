/**
 * Seeded randomness for the judge's offline simulation: a PRNG, binomial
 * counts, and the normal CDF behind log-normal latencies. Nothing here is
 * used by switchyard itself; the judge takes no randomness at all.
 */

/** A uniform [0, 1) source. */
export type Rand = () => number

/**
 * SplitMix32 (Steele, Lea & Flood, "Fast splittable pseudorandom number
 * generators", 2014, 32-bit variant): tiny, fast, and good enough for a
 * Monte-Carlo whose runs each get their own seed.
 */
export function splitmix32 (seed: number): Rand {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296
  }
}

/** A standard normal draw (Box–Muller). */
function gaussian (rand: Rand): number {
  const u = 1 - rand() // (0, 1]: the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

/** Below this mean the binomial is drawn exactly, by inversion. */
const EXACT_MEAN = 50

/**
 * A Binomial(n, p) draw. Exact (inversion, walking the pmf from 0) while the
 * smaller tail's mean is under 50 — the regime of error and slow counts per
 * look, where the tests' behaviour is decided; above, the normal
 * approximation with continuity correction, whose error at mean ≥ 50 is far
 * below the simulation's Monte-Carlo noise (it only splits large batches of
 * requests between the arms).
 */
export function binomial (n: number, p: number, rand: Rand): number {
  if (n <= 0 || p <= 0) return 0
  if (p >= 1) return n
  if (p > 0.5) return n - binomial(n, 1 - p, rand)
  const mean = n * p
  if (mean >= EXACT_MEAN) {
    const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(rand))
    return Math.min(n, Math.max(0, k))
  }
  const u = rand()
  const odds = p / (1 - p)
  let pk = Math.exp(n * Math.log1p(-p))
  let cdf = pk
  let k = 0
  while (u > cdf && k < n) {
    pk *= odds * (n - k) / (k + 1)
    k++
    cdf += pk
  }
  return k
}

/**
 * Φ(x), the standard normal CDF, from erfc by the Chebyshev fit of Numerical
 * Recipes §6.2 (relative error < 1.2e-7: ample for bucket probabilities).
 */
export function normalCdf (x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + 0.5 * z)
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 ? 1 - erfc / 2 : erfc / 2
}

/** Φ⁻¹(q) by bisection on normalCdf: only used once per scenario. */
export function normalQuantile (q: number): number {
  let lo = -10
  let hi = 10
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2
    if (normalCdf(mid) < q) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
