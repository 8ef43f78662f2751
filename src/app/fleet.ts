/**
 * What `serve --store` adds around the control plane, and what every
 * instance offers its fleet-wide jobs:
 * - membership: the replica registers its admin URL and applied revision
 *   (and when it last synced) in the store, and leaves on shutdown;
 * - staleness: a store out of reach is logged (once per outage), shown in
 *   the status and the metrics, while the last revision keeps serving;
 * - the local copy: each applied revision is saved in the state directory,
 *   for a restart while the store is down;
 * - leadership (the store's election; a single instance leads itself) and
 *   the fleet's counters (every live member's /admin/metrics, summed).
 */
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { FleetStatus } from '../admin/status.js'
import { FleetCounters } from '../control/fleet-counters.js'
import { fleetLeadership, soloLeadership, type Leadership } from '../control/leadership.js'
import type { LiveConfig } from '../control/live-config.js'
import { fleetSide } from '../control/sources/fleet-source.js'
import type { ConfigSource } from '../control/source.js'
import type { MemberInfo, Registration } from '../fleet/store.js'
import { registerStoreMetrics } from '../observability/store-metrics.js'

export interface FleetOptions {
  readonly source: ConfigSource
  readonly live: LiveConfig
  readonly logger: Logger
  readonly registry: Registry
  /** Unique in the fleet; default POD_NAME, else HOST-PID. */
  readonly identity?: string
  /** Bearer token of the members' admin APIs, for the fleet counters. */
  readonly adminToken?: string
}

export interface Fleet {
  readonly identity: string
  readonly leadership: Leadership
  readonly counters: FleetCounters
  /** The status's store and replicas; undefined for a single instance. */
  readonly status: (() => Promise<FleetStatus>) | undefined
  /** Joins the fleet once the admin API answers at `adminUrl`. */
  join (adminUrl: string): void
  close (): Promise<void>
}

/** How often the registration's sync time is refreshed while nothing changes, ms. */
const REFRESH_MS = 2000

/** Where other replicas reach this one's admin API: SWITCHYARD_ADVERTISE_ADMIN_URL, else POD_IP (downward API) and the port. */
export function advertisedAdminUrl (listening: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWITCHYARD_ADVERTISE_ADMIN_URL !== undefined && env.SWITCHYARD_ADVERTISE_ADMIN_URL !== '') return env.SWITCHYARD_ADVERTISE_ADMIN_URL
  if (env.POD_IP === undefined || env.POD_IP === '') return listening
  const u = new URL(listening)
  u.hostname = env.POD_IP.includes(':') ? `[${env.POD_IP}]` : env.POD_IP
  return u.origin
}

export function startFleet (opts: FleetOptions): Fleet {
  const { live, logger } = opts
  const identity = opts.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`
  const side = fleetSide(opts.source)
  let selfUrl = ''
  if (side === undefined) {
    const self = (): MemberInfo => ({ id: identity, adminUrl: selfUrl, appliedRevision: live.current.revision, syncedAt: new Date().toISOString() })
    return {
      identity,
      leadership: soloLeadership(identity, logger),
      counters: new FleetCounters({ members: async () => [self()], token: opts.adminToken }),
      status: undefined,
      join: url => { selfUrl = url },
      close: async () => {}
    }
  }

  const { store } = side
  if (side.startedFrom !== undefined) {
    logger.warn({ store: store.description, revision: side.startedFrom.revision, savedAt: side.startedFrom.savedAt, file: side.startedFrom.file },
      'the routing store is out of reach: started from the revision saved locally; it catches up when the store answers')
  }
  registerStoreMetrics(opts.registry, () => store.sync)

  let saveFailed = false
  const save = (revision: number, text: string): void => {
    void side.saveApplied(revision, text).then(err => {
      if (err !== undefined && !saveFailed) logger.warn({ err }, 'cannot save the applied revision locally; a restart while the store is down will not start')
      saveFailed = err !== undefined
    })
  }
  save(live.current.revision, live.current.text)

  let registration: Registration | undefined
  let published = { revision: live.current.revision, syncedAt: store.sync.lastSyncAt }
  const publish = (): void => {
    const now = { revision: live.current.revision, syncedAt: store.sync.lastSyncAt }
    if (registration === undefined || (now.revision === published.revision && now.syncedAt === published.syncedAt)) return
    published = now
    registration.update(now.revision, new Date(now.syncedAt ?? Date.now()))
  }
  live.on('reload', outcome => {
    if (outcome.result !== 'success') return
    save(outcome.active.revision, outcome.active.text)
    publish()
  })
  const unlisten = side.onSync(s => {
    if (s.connected) logger.info({ store: store.description, revision: live.current.revision }, 'routing store reachable again; catching up')
    else logger.warn({ store: store.description, revision: live.current.revision, error: s.error, lastSyncAt: s.lastSyncAt === undefined ? null : new Date(s.lastSyncAt).toISOString() }, 'routing store out of reach: serving the last good revision (stale) and retrying')
    publish()
  })
  const timer = setInterval(publish, REFRESH_MS)
  timer.unref()
  const leadership = fleetLeadership(store, identity, logger)

  const status = async (): Promise<FleetStatus> => {
    const s = store.sync
    const members = await store.members().catch(() => null)
    const from = side.startedFrom
    return {
      store: {
        location: store.description,
        connected: s.connected,
        stale: !s.connected,
        lastSyncAt: s.lastSyncAt === undefined ? null : new Date(s.lastSyncAt).toISOString(),
        lastSyncAgeSeconds: s.lastSyncAt === undefined ? null : Math.max(0, (Date.now() - s.lastSyncAt) / 1000),
        error: s.error ?? null,
        relists: s.relists,
        startedFromLocalCopy: from === undefined ? null : { ...from }
      },
      leader: leadership.leader ?? null,
      replicas: members === null
        ? null
        : members.map(m => ({ id: m.id, adminUrl: m.adminUrl, revision: m.appliedRevision, syncedAt: m.syncedAt, self: m.id === identity })).sort((a, b) => a.id.localeCompare(b.id))
    }
  }

  return {
    identity,
    leadership,
    counters: new FleetCounters({ members: async () => await store.members(), token: opts.adminToken }),
    status,
    join: url => {
      selfUrl = advertisedAdminUrl(url)
      registration = store.register({ id: identity, adminUrl: selfUrl, appliedRevision: live.current.revision, syncedAt: new Date(store.sync.lastSyncAt ?? Date.now()).toISOString() })
    },
    close: async () => {
      clearInterval(timer)
      unlisten()
      await leadership.close()
      await registration?.close()
      await store.close()
    }
  }
}
