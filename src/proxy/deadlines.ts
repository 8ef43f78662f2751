/**
 * Timeouts for the data path without a timer per request. Every request of a
 * route has the same timeout, so deadlines of one duration expire in the
 * order they were set: each duration keeps a list in that order, linked
 * through the entries themselves, and one Node timer armed for the head.
 * Adding and removing an entry is a few field writes; a Node setTimeout per
 * request costs a Timeout object and an async resource, and when the last
 * one of its duration is cleared, a timer list that the next request builds
 * again. (undici's own request timers avoid that cost by ticking every
 * 0.5 s, too coarse for a route timeout.)
 */

/** An entry in a DeadlineList; subclasses say what expiring means. */
export abstract class Deadline {
  deadlinePrev: Deadline | undefined = undefined
  deadlineNext: Deadline | undefined = undefined
  /** performance.now() at which it expires. */
  deadlineAt = 0
  deadlineList: DeadlineList | undefined = undefined

  /** Called once when the deadline passes while still listed (it is unlisted first). */
  abstract expire (): void

  /** Takes it off its list, if any. */
  cancelDeadline (): void {
    this.deadlineList?.remove(this)
  }
}

/** Expires within this of its deadline: a Node timer has millisecond resolution. */
const SLACK_MS = 1

const lists = new Map<number, DeadlineList>()

export class DeadlineList {
  #head: Deadline | undefined
  #tail: Deadline | undefined
  #timer: NodeJS.Timeout | undefined
  /** While `fire` runs: entries added by an expiring one must not arm a second timer. */
  #firing = false

  private constructor (readonly ms: number) {}

  /** The list of deadlines `ms` from when they are set. */
  static of (ms: number): DeadlineList {
    let list = lists.get(ms)
    if (list === undefined) {
      list = new DeadlineList(ms)
      lists.set(ms, list)
    }
    return list
  }

  /**
   * Sets `d` to expire `ms` from `now` (taking it off any list it is on).
   * It goes at the end: callers pass non-decreasing times (a request's
   * arrival while it starts, or the current time).
   */
  add (d: Deadline, now: number): void {
    if (d.deadlineList !== undefined) d.deadlineList.remove(d)
    d.deadlineAt = now + this.ms
    d.deadlineList = this
    d.deadlinePrev = this.#tail
    d.deadlineNext = undefined
    if (this.#tail === undefined) this.#head = d
    else this.#tail.deadlineNext = d
    this.#tail = d
    if (this.#timer === undefined && !this.#firing) this.#arm(this.ms)
  }

  /** Takes `d` off; the timer stays armed and, when it fires, looks at the new head. */
  remove (d: Deadline): void {
    if (d.deadlineList !== this) return
    const { deadlinePrev: prev, deadlineNext: next } = d
    if (prev === undefined) this.#head = next
    else prev.deadlineNext = next
    if (next === undefined) this.#tail = prev
    else next.deadlinePrev = prev
    d.deadlinePrev = d.deadlineNext = d.deadlineList = undefined
  }

  #arm (ms: number): void {
    this.#timer = setTimeout(fire, Math.max(1, Math.ceil(ms)), this)
    this.#timer.unref()
  }

  /** Expires every entry that is due, then waits for the next one. */
  fire (): void {
    this.#timer = undefined
    const now = performance.now()
    this.#firing = true
    try {
      for (let d = this.#head; d !== undefined && d.deadlineAt <= now + SLACK_MS; d = this.#head) {
        this.remove(d)
        d.expire()
      }
    } finally {
      this.#firing = false
    }
    const head = this.#head
    if (head !== undefined) this.#arm(head.deadlineAt - now)
  }
}

function fire (list: DeadlineList): void {
  list.fire()
}
