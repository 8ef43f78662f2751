/**
 * The routing store shared by a fleet of replicas: one routing document, its
 * history, the live members and a leader. Two implementations, etcd v3
 * (etcd-store.ts) and the Kubernetes API (kube-store.ts), pass one
 * conformance suite (test/fleet/store.conformance.ts).
 *
 * This is the shape of the control plane's config source (read, watch,
 * write-if-revision, history) plus what only a fleet needs (members, leader).
 *
 * Revisions are switchyard's own numbers (1, 2, 3…), kept in the store beside
 * the text, so they read the same on every replica and in every store; the
 * store's own version (etcd mod revision, Kubernetes resourceVersion) stays
 * inside each adapter, where it conditions every write: a write that lost a
 * race is a conflict, never a silent overwrite. That is also the fencing of
 * a deposed leader: its writes carry a revision that is no longer current.
 *
 * Store outages never throw out of the background loops (watch, membership,
 * election): they retry with backoff and jitter and report through SyncState.
 * Calls a caller awaits (read, write, history, members) reject with a
 * StoreError coded SY_ERR_STORE_UNAVAILABLE.
 */

export interface StoredConfig {
  /** The routing document, YAML or JSON, as written. */
  readonly text: string
  /** The switchyard revision it is; 0 for a document no switchyard has written yet. */
  readonly revision: number
  /** sha256 (hex) of `text`. */
  readonly sha256: string
  /**
   * The text was changed outside switchyard (kubectl apply, etcdctl put) after
   * `revision` was written. A replica adopts it as the next revision with
   * writeIfRevision(text, revision); every replica may try, one wins.
   */
  readonly external: boolean
}

export type WriteOutcome =
  | { readonly ok: true, readonly revision: number }
  /** Someone else wrote first; `current` is the revision in force now (undefined: no document). */
  | { readonly ok: false, readonly current: number | undefined }

/** One entry of the fleet's revision history: the same fields as the file history's RevisionEntry. */
export interface HistoryEntry {
  readonly revision: number
  /** ISO 8601. */
  readonly time: string
  readonly source: string
  readonly summary: string
  readonly sha256: string
  readonly config: string
}

export interface MemberInfo {
  /** Unique in the fleet: the pod name on Kubernetes. */
  readonly id: string
  /** Where its admin API answers, e.g. http://10.0.3.7:9901. */
  readonly adminUrl: string
  /** The revision it serves. */
  readonly appliedRevision: number
  /** ISO 8601: when it last confirmed that revision with the store. */
  readonly syncedAt: string
}

export interface Registration {
  /** Publishes a new applied revision (and sync time). Never throws; a store outage retries. */
  update (appliedRevision: number, syncedAt: Date): void
  /** Leaves the fleet at once (revokes the lease), instead of after the TTL. */
  close (): Promise<void>
}

export interface SyncState {
  /** false while the store cannot be reached; the last document stays in force meanwhile. */
  readonly connected: boolean
  /** When the store last confirmed that this replica is current (epoch ms); undefined before the first time. */
  readonly lastSyncAt: number | undefined
  /** Why the store is out of reach, while it is. */
  readonly error: string | undefined
  /**
   * Times the watch re-read the document because the store no longer had the
   * changes it missed (etcd compaction, Kubernetes 410 Gone).
   */
  readonly relists: number
}

export interface WatchHandlers {
  /**
   * The document changed (undefined: it was deleted). Called in revision
   * order, never twice in a row for the same content; the first call carries
   * the document as it is when the watch starts.
   */
  change (doc: StoredConfig | undefined): void
  /** The connection to the store was lost or regained. */
  state? (state: SyncState): void
}

export interface LeaderHandlers {
  /** This replica leads from now on. */
  started (): void
  /** It no longer does (lost the lease, stopped, store out of reach past the deadline). */
  stopped (): void
  /** Someone (maybe this replica) leads; undefined when nobody does. */
  leader? (identity: string | undefined): void
}

export interface Candidacy {
  readonly leading: boolean
  /** Stops campaigning; a leader steps down at once so another takes over without waiting for the lease. */
  stop (): Promise<void>
}

export interface Stopper {
  stop (): Promise<void>
}

/** Inside the stores: stops a loop without telling the store, as if the process had died (close() uses it). */
export interface Halting {
  halt (): void
}

/** A small document kept beside the routing (a rollout's state), as the store holds it. */
export interface VersionedDoc {
  readonly name: string
  readonly text: string
  /** The store's own version of it (etcd mod revision, Kubernetes resourceVersion): opaque, compared for equality only. */
  readonly version: string
}

/**
 * Named documents beside the routing, each written by compare-and-swap on
 * the store's version of it: a writer that read an older version (a deposed
 * leader, a command racing a look) loses instead of overwriting.
 */
export interface DocumentSet {
  /** For status and logs: the key prefix, the ConfigMaps' label. */
  readonly location: string
  list (): Promise<VersionedDoc[]>
  get (name: string): Promise<VersionedDoc | undefined>
  /** Writes `text` if `name` is still at `expected` (undefined: absent). Resolves with the new version, or undefined when someone else wrote first. */
  put (name: string, text: string, expected: string | undefined): Promise<string | undefined>
}

export interface RoutingStore {
  /** What the URL names, for logs and status: `etcd://…/switchyard`, `kubernetes://ns/name`. */
  readonly description: string
  /** The fleet's rollouts, one document per route. */
  readonly rollouts: DocumentSet
  readonly sync: SyncState
  read (): Promise<StoredConfig | undefined>
  watch (handlers: WatchHandlers): Stopper
  /** Seeds an empty store; replicas starting together race and exactly one creates revision 1. */
  createIfAbsent (text: string): Promise<WriteOutcome>
  writeIfRevision (text: string, expectedRevision: number): Promise<WriteOutcome>
  /** Oldest first. */
  history (): Promise<HistoryEntry[]>
  /** Adds an entry (once per revision, whoever records it) and trims to the `limit` newest. */
  recordHistory (entry: HistoryEntry, limit: number): Promise<void>
  /** Joins the fleet; the member disappears when this replica stops renewing (TTL). */
  register (member: MemberInfo): Registration
  members (): Promise<MemberInfo[]>
  /** Campaigns to lead fleet-wide jobs. */
  campaign (identity: string, handlers: LeaderHandlers): Candidacy
  /** Stops every loop and closes connections; registrations are not revoked (as if the process died). */
  close (): Promise<void>
}
