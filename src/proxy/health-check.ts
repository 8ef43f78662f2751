/**
 * Active health checks: each target of a backend with `healthCheck` is sent
 * `GET path` every `interval`; `unhealthyThreshold` failures in a row take
 * it out of rotation, `healthyThreshold` passes in a row bring it back.
 * Checkers follow the running config: started for new targets, stopped (and
 * their verdict cleared) for targets or backends that lose their check.
 */
import type { HealthCheckSpec } from '../routing/types.js'
import type { BackendRuntime, Upstream } from './upstreams.js'

class HealthChecker {
  #timer: NodeJS.Timeout | undefined
  #passes = 0
  #failures = 0
  #stopped = false

  constructor (readonly upstream: Upstream, readonly spec: HealthCheckSpec) {}

  start (): void {
    // Spread the first checks so that many targets are not probed in lockstep.
    this.#schedule(Math.floor(Math.random() * Math.min(this.spec.intervalMs, 1000)))
  }

  stop (): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.upstream.setChecked(true, 'health check removed')
  }

  #schedule (ms: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => { this.#check().catch(() => {}) }, ms)
    this.#timer.unref()
  }

  async #check (): Promise<void> {
    let ok = false
    let detail = ''
    try {
      const res = await this.upstream.pool.request({
        path: this.spec.path,
        method: 'GET',
        headers: { 'user-agent': 'switchyard-health-check' },
        headersTimeout: this.spec.timeoutMs,
        bodyTimeout: this.spec.timeoutMs,
        signal: AbortSignal.timeout(this.spec.timeoutMs)
      })
      await res.body.dump()
      ok = res.statusCode >= 200 && res.statusCode < 400
      detail = `status ${res.statusCode}`
    } catch (err) {
      detail = (err as NodeJS.ErrnoException).code ?? (err as Error).name
    }
    if (this.#stopped) return
    if (ok) {
      this.#failures = 0
      if (++this.#passes >= this.spec.healthyThreshold) this.upstream.setChecked(true, `health check passed ${this.#passes}×`)
    } else {
      this.#passes = 0
      if (++this.#failures >= this.spec.unhealthyThreshold) this.upstream.setChecked(false, `health check failed ${this.#failures}× (${detail})`)
    }
    this.#schedule(this.spec.intervalMs)
  }
}

export class HealthChecks {
  readonly #checkers = new Map<Upstream, HealthChecker>()

  /** Makes the running checkers match `runtimes` (the config in force). */
  sync (runtimes: readonly BackendRuntime[]): void {
    const wanted = new Map<Upstream, HealthCheckSpec>()
    for (const rt of runtimes) {
      const spec = rt.backend.healthCheck
      if (spec === undefined) continue
      // A target shared by two backends is checked once, with the first backend's spec.
      for (const up of rt.upstreams) if (!wanted.has(up)) wanted.set(up, spec)
    }
    for (const [up, checker] of this.#checkers) {
      const spec = wanted.get(up)
      if (spec === undefined || JSON.stringify(spec) !== JSON.stringify(checker.spec)) {
        checker.stop()
        this.#checkers.delete(up)
      }
    }
    for (const [up, spec] of wanted) {
      if (this.#checkers.has(up)) continue
      const checker = new HealthChecker(up, spec)
      this.#checkers.set(up, checker)
      checker.start()
    }
  }

  stopAll (): void {
    for (const c of this.#checkers.values()) c.stop()
    this.#checkers.clear()
  }
}
