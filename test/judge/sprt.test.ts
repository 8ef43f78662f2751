/**
 * The judge's numerical core against references computed with mpmath (40
 * digits; scipy's incbet where mpmath's hypergeometric series gives up), the
 * table of research/judge.md, and properties of the Bayes factors for all
 * counts.
 */
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { holds } from '../helpers/property.js'
import { lnBetaTails, lnGamma } from '../../src/judge/beta.js'
import { lnBayesFactorAbove, lnBayesFactorBelow, ratioAtShare, shareAtRatio, shareUpperBound } from '../../src/judge/sprt.js'

function close (t: Test, got: number, want: number, tol: number, what: string): void {
  const err = Math.abs(got - want)
  t.ok(err <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} ≈ ${want}`, { error: err })
}

t.test('lnGamma matches mpmath to 1e-14', async t => {
  const cases: Array<[number, number]> = [[0.1, 2.252712651734206], [0.5, 0.5723649429247001], [1, 0], [2.5, 0.2846828704729192],
    [10, 12.801827480081469], [1e3, 5905.220423209181], [1e9, 19723265827.503716]]
  for (const [x, want] of cases) close(t, lnGamma(x), want, 1e-14, `lnΓ(${x})`)
})

t.test('lnBetaTails: both tails of I_x(a, b), including where linear space underflows', async t => {
  // [x, a, b, ln I_x(a,b), ln(1 − I_x(a,b))]
  const cases: Array<[number, number, number, number, number]> = [
    [0.3, 2, 5, -0.5450289451074884, -0.8670839878195068],
    [0.001, 0.5, 0.5, -3.9052936169690375, -0.02034051439755806],
    [0.999, 3, 7, -3.5937028000000226e-20, -44.77251876831668],
    [0.6, 218, 101, -6.928659374684775, -0.0009797927205397415],
    [0.5, 1e4, 1e4, -0.6931471805599475, -0.6931471805599453],
    [0.2, 1e7, 4e7, -0.6930907631928936, -0.6932036011102494],
    [1e-6, 1, 1e5, -2.3521679856273017, -0.10000005000003336],
    [0.05, 3e6, 5.7e7, -0.6930054028030533, -0.6932889784206958],
    // lower from the upper tail: scipy's betainc ≈ 1 − 2.5e-10 has only 6 digits of the difference
    [0.0001, 0.5, 2e5, -2.537094410866862e-10, -22.0948314365569],
    // e^-9743: far below the smallest double; the log still has 12 digits
    [0.01, 50, 1e6, 0, -9743.588831926616]
  ]
  for (const [x, a, b, lower, upper] of cases) {
    const got = lnBetaTails(x, a, b)
    // Relative 1e-10: counts in the tens of millions cost a few digits.
    close(t, got.lower, lower, 1e-10, `ln I_${x}(${a}, ${b})`)
    close(t, got.upper, upper, 1e-10, `ln Q_${x}(${a}, ${b})`)
  }
  t.same(lnBetaTails(0, 2, 3), { lower: -Infinity, upper: 0 })
  t.same(lnBetaTails(1, 2, 3), { lower: 0, upper: -Infinity })
})

t.test('Bayes factors above and below θ0 match mpmath quadrature', async t => {
  // [canary events k, baseline events m, θ0, ln BF above, ln BF below]
  const cases: Array<[number, number, number, number, number]> = [
    [0, 0, 0.3, 0, 0],
    [2, 0, 0.07317073170731707, 4.206901344750522, -1.0986122886681098],
    [217, 100, 0.6, 3.0473509888009973, -4.285793701271403],
    [216, 100, 0.6, 2.9185300606563853, -4.272681527888979],
    [5, 120, 0.2, -4.623974656088997, 12.32447204517211],
    [0, 5000, 0.001, -8.517393171418904, 3.386126741698174],
    [30, 10000, 0.01, -8.863849175237675, 32.351771116363025],
    [400, 20000, 0.05, -9.42651529043187, 252.35336914269766],
    [3000, 100000, 0.0196, 205.29421958531645, -6.911589103422412]
  ]
  for (const [k, m, theta0, above, below] of cases) {
    close(t, lnBayesFactorAbove(k, m, theta0), above, 1e-10, `ln BF above (${k}, ${m}, ${theta0})`)
    close(t, lnBayesFactorBelow(k, m, theta0), below, 1e-10, `ln BF below (${k}, ${m}, ${theta0})`)
  }
})

t.test('the table of research/judge.md: fewest canary errors that reject "ratio ≤ 1+δ" at α = 0.05', async t => {
  // [canary share ρ, δ, minimum canary errors at baseline errors 0, 5, 20, 100]
  const table: Array<[number, number, [number, number, number, number]]> = [
    [0.05, 0, [2, 3, 6, 15]],
    [0.10, 0, [2, 5, 9, 25]],
    [0.50, 0, [7, 18, 43, 150]],
    [0.05, 0.5, [2, 4, 8, 20]],
    [0.10, 0.5, [3, 6, 12, 34]],
    [0.50, 0.5, [9, 26, 61, 217]]
  ]
  const bar = Math.log(1 / 0.05)
  for (const [rho, delta, want] of table) {
    const theta0 = shareAtRatio(rho, 1 + delta)
    const got = [0, 5, 20, 100].map(m => {
      let k = 0
      while (lnBayesFactorAbove(k, m, theta0) < bar) k++
      return k
    })
    t.same(got, want, `ρ ${rho}, δ ${delta}`)
  }
})

const count = fc.integer({ min: 0, max: 1_000_000 })
const share = fc.double({ min: 1e-4, max: 1 - 1e-4, noNaN: true })

t.test('for all counts: finite or ±∞, never NaN; one more canary event never lowers the evidence', async t => {
  holds(t, fc.property(count, count, share, (k, m, theta0) => {
    const above = lnBayesFactorAbove(k, m, theta0)
    const below = lnBayesFactorBelow(k, m, theta0)
    if (Number.isNaN(above) || Number.isNaN(below)) return false
    // a little slack: the two evaluations round differently
    return lnBayesFactorAbove(k + 1, m, theta0) >= above - 1e-9 * Math.max(1, Math.abs(above)) &&
      lnBayesFactorBelow(k, m + 1, theta0) >= below - 1e-9 * Math.max(1, Math.abs(below))
  }), { numRuns: 500 })
})

t.test('a canary share at or below θ0 is never evidence that it is above (BF ≤ 1)', async t => {
  holds(t, fc.property(count, count, share, (k, m, theta0) => {
    fc.pre(k + m > 0 && k / (k + m) <= theta0)
    return lnBayesFactorAbove(k, m, theta0) <= 1e-9
  }), { numRuns: 500 })
})

t.test('shareUpperBound: the smallest rejected θ0, undefined without events in the second group', async t => {
  t.equal(shareUpperBound(3, 0, 0.05), undefined)
  t.equal(shareUpperBound(0, 0, 0.05), undefined)
  holds(t, fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 50_000 }), (k, m) => {
    const u = shareUpperBound(k, m, 0.05)
    if (u === undefined) return false
    const bar = Math.log(20)
    return u >= k / (k + m) && lnBayesFactorBelow(k, m, u) >= bar - 1e-6 && lnBayesFactorBelow(k, m, u * (1 - 1e-4)) < bar
  }), { numRuns: 200 })
})

t.test('shareAtRatio and ratioAtShare are inverses', async t => {
  holds(t, fc.property(share, fc.double({ min: 0.01, max: 100, noNaN: true }), (rho, ratio) => {
    return Math.abs(ratioAtShare(rho, shareAtRatio(rho, ratio)) - ratio) <= 1e-9 * ratio
  }))
  t.equal(shareAtRatio(0.5, 1), 0.5)
  t.equal(shareAtRatio(0.5, 1.5), 0.6)
})
