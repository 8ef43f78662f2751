/**
 * DeadlineList, the data path's timer: entries expire in order, once; a
 * removed entry never expires; an entry set again from its own expiry
 * (the body timeout re-arming on progress) expires again later.
 */
import t from 'tap'
import { Deadline, DeadlineList } from '../../src/proxy/deadlines.js'

// The lists' timers are unref'd (a server's sockets keep it alive); this keeps the test alive.
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

class Probe extends Deadline {
  constructor (readonly name: string, readonly log: string[], readonly onExpire?: (p: Probe) => void) {
    super()
  }

  expire (): void {
    this.log.push(this.name)
    this.onExpire?.(this)
  }
}

t.test('expire in order, once; removed entries never', async t => {
  const log: string[] = []
  const list = DeadlineList.of(40)
  const done = new Promise<void>(resolve => {
    const now = performance.now()
    const a = new Probe('a', log)
    const b = new Probe('b', log)
    const c = new Probe('c', log, () => resolve())
    list.add(a, now)
    list.add(b, now + 5)
    list.add(c, now + 10)
    b.cancelDeadline()
    t.equal(b.deadlineList, undefined)
  })
  await done
  t.same(log, ['a', 'c'])
  t.equal(DeadlineList.of(40), list, 'one list per duration')
})

t.test('an entry set again while expiring expires again; others keep their place', async t => {
  const log: string[] = []
  const list = DeadlineList.of(25)
  let rounds = 0
  await new Promise<void>(resolve => {
    const again = new Probe('again', log, p => {
      if (++rounds < 3) list.add(p, performance.now())
      else resolve()
    })
    const now = performance.now()
    list.add(again, now)
    list.add(new Probe('once', log), now + 1)
  })
  t.same(log, ['again', 'once', 'again', 'again'])
})

t.test('adding an entry that is on another list moves it', async t => {
  const log: string[] = []
  const slow = DeadlineList.of(60_000)
  const fast = DeadlineList.of(20)
  const p = new Probe('moved', log)
  slow.add(p, performance.now())
  await new Promise<void>(resolve => {
    const end = new Probe('end', log, () => resolve())
    fast.add(p, performance.now())
    fast.add(end, performance.now())
  })
  t.same(log, ['moved', 'end'])
  t.equal(p.deadlineList, undefined)
})
