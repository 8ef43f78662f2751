/**
 * The fleet's store as metrics (`serve --store`): whether this replica can
 * reach it and how old its last confirmed sync is. A replica that cannot
 * reach its store keeps serving its last revision and stays ready; these
 * gauges (and `switchyard_config_info{revision}`, whose `count by
 * (revision)` shows convergence) are how an alert sees it. Read at scrape
 * time, so the age grows between events.
 */
import { Gauge, type Registry } from 'prom-client'

export interface StoreSyncView {
  readonly connected: boolean
  /** Epoch ms; undefined before the first confirmed sync. */
  readonly lastSyncAt: number | undefined
  readonly relists: number
}

export function registerStoreMetrics (registry: Registry, sync: () => StoreSyncView, now: () => number = Date.now): void {
  const registers = [registry]
  new Gauge({
    name: 'switchyard_config_store_connected',
    help: '1 while the routing store (--store) answers, 0 while it is out of reach and the last revision keeps serving',
    registers,
    aggregator: 'first',
    collect () { this.set(sync().connected ? 1 : 0) }
  })
  new Gauge({
    name: 'switchyard_config_store_last_sync_age_seconds',
    help: 'Seconds since the routing store last confirmed that this replica serves its current revision (-1 before the first time)',
    registers,
    aggregator: 'first',
    collect () {
      const at = sync().lastSyncAt
      this.set(at === undefined ? -1 : Math.max(0, (now() - at) / 1000))
    }
  })
  new Gauge({
    name: 'switchyard_config_store_relists_total',
    help: 'Times the store watch re-read the document because the store had compacted the changes it missed (etcd compaction, Kubernetes 410 Gone)',
    registers,
    aggregator: 'first',
    collect () { this.set(sync().relists) }
  })
}
