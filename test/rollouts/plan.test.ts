/** The pure parts of a rollout: a step's weights, the share the judge expects, what a verdict does. */
import t from 'tap'
import fc from 'fast-check'
import { actionOf, restoreWeights, shareOf, weightsAt } from '../../src/control/rollouts/plan.js'

t.test('a step gives the canary its percentage; the baseline takes what is left of 100; other backends keep theirs', async t => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 100 }),
    (canary, baseline, other, percent) => {
      const s = { canary: 'c', baseline: 'b', startWeights: { c: canary, b: baseline, o: other } }
      const w = weightsAt(s, percent)
      if (w.c !== percent || w.b !== Math.max(0, 100 - other - percent) || 'o' in w) return false
      const share = shareOf(s, w)
      if (!(share >= 0 && share <= 1)) return false
      // Without other backends the share the judge expects is the percentage itself.
      if (other === 0 && Math.abs(shareOf(s, weightsAt({ ...s, startWeights: { c: canary, b: baseline } }, percent)) - percent / 100) > 1e-12) return false
      const back = restoreWeights(s)
      return back.c === canary && back.b === baseline && back.o === other
    }))
  t.same(restoreWeights({ canary: 'c', baseline: 'b', startWeights: { b: 100 } }), { b: 100, c: 0 }, 'a canary the route did not name is set to 0 on abort')
  t.equal(shareOf({ canary: 'c', baseline: 'b' }, { c: 0, b: 0 }), 0)
})

t.test('what each verdict does', async t => {
  const table = [
    ['worse', false, 'abort'], ['critical', false, 'abort'], ['srm', false, 'pause'], ['inconclusive-timeout', false, 'pause'],
    ['pass', false, 'advance'], ['pass', true, 'gate'], ['inconclusive-continue', true, 'continue']
  ] as const
  for (const [outcome, gate, action] of table) t.equal(actionOf(outcome, gate), action, `${outcome}${gate ? ' at a gate' : ''}`)
})
