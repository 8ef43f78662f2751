/**
 * The metrics that follow the configuration rather than the traffic (with
 * `--workers`, every process holds them; the aggregators say how the
 * primary's /metrics combines them: the same value everywhere → `first`):
 * split weights, backend versions, the running revision and the outcome of
 * reloads. They change only on a config swap or a reload, so they use
 * prom-client directly.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { ActiveConfig } from '../proxy/config-store.js'

/** What a reload did (the control plane's outcome, as far as metrics care). */
export interface ReloadResult {
  readonly result: 'success' | 'failure' | 'unchanged'
}

export class ConfigMetrics {
  readonly #weight: Gauge<'route' | 'backend'>
  readonly #backendInfo: Gauge<'backend' | 'version'>
  readonly #info: Gauge<'revision' | 'sha256'>
  readonly #reloads: Counter<'result'>
  readonly #lastSuccess: Gauge
  readonly #lastSuccessful: Gauge

  constructor (registry: Registry) {
    const registers = [registry]
    this.#weight = new Gauge({
      name: 'switchyard_backend_weight',
      help: 'Weight of the backend in the route\'s default split (a `to` destination counts as weight 1); only backends of the running config',
      labelNames: ['route', 'backend'],
      registers,
      aggregator: 'first'
    })
    this.#backendInfo = new Gauge({
      name: 'switchyard_backend_info',
      help: 'Always 1: the version each backend of the running config runs (to join a backend to its version)',
      labelNames: ['backend', 'version'],
      registers,
      aggregator: 'first'
    })
    this.#info = new Gauge({
      name: 'switchyard_config_info',
      help: 'Always 1: the revision and the sha256 of the running config',
      labelNames: ['revision', 'sha256'],
      registers,
      aggregator: 'first'
    })
    this.#reloads = new Counter({
      name: 'switchyard_config_reloads_total',
      help: 'Config reloads (file change, SIGHUP, API) that were applied (success) or rejected (failure); unchanged files are not counted',
      labelNames: ['result'],
      registers
    })
    this.#lastSuccess = new Gauge({
      name: 'switchyard_config_last_reload_success_timestamp_seconds',
      help: 'Unix time at which the running config was applied (at start, or by the last successful reload)',
      registers,
      aggregator: 'max'
    })
    this.#lastSuccessful = new Gauge({
      name: 'switchyard_config_last_reload_successful',
      help: '1 when the last reload was applied or found the file unchanged, 0 when it was rejected (the previous config keeps serving)',
      registers,
      aggregator: 'min'
    })
    // Both results exist from the start, so that increase() sees the first failure.
    this.#reloads.inc({ result: 'success' }, 0)
    this.#reloads.inc({ result: 'failure' }, 0)
  }

  /** A config went live. Series of routes and backends it no longer has are dropped. */
  applied (active: ActiveConfig): void {
    const table = active.table
    this.#weight.reset()
    for (const route of table.routes) {
      const d = route.destination
      if (d.kind === 'to') this.#weight.set({ route: route.name, backend: d.backend.name }, 1)
      else for (const w of d.split.weights) this.#weight.set({ route: route.name, backend: w.backend.name }, w.weight)
    }
    this.#backendInfo.reset()
    for (const b of table.backends) this.#backendInfo.set({ backend: b.name, version: b.version }, 1)
    this.#info.reset()
    this.#info.set({ revision: String(active.revision), sha256: table.sha256 }, 1)
    this.#lastSuccess.set(active.loadedAt.getTime() / 1000)
    this.#lastSuccessful.set(1)
  }

  /** `origin` `start` is the config read at start: not a reload. */
  reloaded (outcome: ReloadResult, origin: string): void {
    switch (outcome.result) {
      case 'success':
        if (origin !== 'start') this.#reloads.inc({ result: 'success' })
        this.#lastSuccessful.set(1)
        break
      case 'failure':
        this.#reloads.inc({ result: 'failure' })
        this.#lastSuccessful.set(0)
        break
      case 'unchanged':
        // The file on disk is what runs: nothing is failing any more.
        this.#lastSuccessful.set(1)
        break
    }
  }
}
