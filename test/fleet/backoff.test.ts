/** Retry delays: within [step/2, step], the step doubling up to the cap, for every attempt and draw. */
import t from 'tap'
import fc from 'fast-check'
import { Backoff, backoffDelay } from '../../src/fleet/backoff.js'

t.test('every delay lies in the jitter window of its step', async () => {
  fc.assert(fc.property(fc.nat(100), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, baseMs, extra, rand) => {
    const policy = { baseMs, maxMs: baseMs + extra }
    const step = Math.min(policy.maxMs, baseMs * 2 ** Math.min(attempt, 30))
    const d = backoffDelay(attempt, policy, rand)
    return d >= Math.floor(step / 2) && d <= step && d <= policy.maxMs
  }))
})

t.test('the sequence grows, caps, and starts over after reset()', async t => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0.999)
  t.same([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000])
  b.reset()
  t.equal(b.next(), 100)
  t.equal(new Backoff({ baseMs: 100, maxMs: 1000 }, () => 0).next(), 50, 'never less than half the step')
})
