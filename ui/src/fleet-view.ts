/**
 * The fleet as the Fleet page shows it, from GET /admin/status: every
 * replica, the revision it applies, whether it is stale and why, and which
 * one leads. A single instance (no `serve --store`) is a fleet of one that
 * leads itself. Pure: unit-tested in test/ui/.
 */
import type { Status } from './types.js'

export interface MemberView {
  readonly id: string
  readonly adminUrl: string
  readonly revision: number
  readonly syncedAt: string | null
  /** The replica that answered this status (the page's own). */
  readonly self: boolean
  readonly leader: boolean
  /** Why the member is stale; null when it applies the fleet's revision. */
  readonly stale: string | null
}

export interface FleetView {
  /** false: a single instance, no shared store. */
  readonly shared: boolean
  readonly store: string | null
  /** The newest revision any member applies (what the others converge to). */
  readonly revision: number
  readonly leader: string | null
  readonly members: readonly MemberView[]
  /** Why the member list is missing or partial; null when it is whole. */
  readonly problem: string | null
}

/** The fleet seen from one replica's status; `origin` names a single instance (the page's own). */
export function fleetView (status: Status, origin: string): FleetView {
  if (status.store === undefined) {
    return {
      shared: false,
      store: null,
      revision: status.revision,
      leader: 'this instance',
      members: [{ id: 'this instance', adminUrl: origin, revision: status.revision, syncedAt: status.loadedAt, self: true, leader: true, stale: null }],
      problem: null
    }
  }
  const store = status.store
  const leader = status.leader ?? null
  const listed = status.replicas ?? []
  // The replica that answered is always in the view, even while the store cannot list the others.
  const replicas = listed.some(r => r.self)
    ? listed
    : [...listed, { id: 'this replica', adminUrl: origin, revision: status.revision, syncedAt: store.lastSyncAt ?? status.loadedAt, self: true }]
  const revision = Math.max(status.revision, ...replicas.map(r => r.revision))
  const members = [...replicas]
    .sort((a, b) => Number(b.self) - Number(a.self) || a.id.localeCompare(b.id))
    .map(r => ({
      id: r.id,
      adminUrl: r.adminUrl,
      revision: r.revision,
      syncedAt: r.syncedAt,
      self: r.self,
      leader: r.id === leader,
      stale: r.self && store.stale
        ? `the store is out of reach${store.error === null ? '' : ` (${store.error})`}: serving its last good revision`
        : r.revision < revision ? `behind: applies revision ${r.revision}, the fleet is at ${revision}` : null
    }))
  return {
    shared: true,
    store: store.location,
    revision,
    leader,
    members,
    problem: status.replicas === null || status.replicas === undefined
      ? 'the store cannot be asked for its members: only this replica is shown'
      : leader === null ? 'no leader: the replicas have not elected one (fleet-wide jobs wait)' : null
  }
}
