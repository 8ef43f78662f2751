/**
 * The routing store on etcd v3 (the `etcd3` client). Under the URL's prefix:
 *   config              the routing text, as written (readable with etcdctl)
 *   config.meta         {"revision": N, "sha256": "…"} of the text switchyard wrote
 *   history/0000000042  one history entry per revision (JSON), the newest `limit` kept
 *   members/ID          one per replica, attached to its lease: gone when it stops renewing
 *   election/LEASE_ID   one per candidate, under its lease: the oldest leads
 *   rollouts/ROUTE      a route's rollout (JSON), written by CAS on its mod revision
 * Writes are transactions conditioned on the mod revisions of config and
 * config.meta as read, so a lost race is a conflict and never a silent
 * overwrite. History lives in its own keys because etcd's MVCC history goes
 * with compaction.
 */
import { Etcd3, isRecoverableError, type IKeyValue, type Namespace } from 'etcd3'
import { circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel'
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js'
import { parseHistoryEntry, parseMeta, sha256, storedConfig, type DocumentMeta } from './document.js'
import { CONFIG_KEY, ELECTION_PREFIX, HISTORY_PREFIX, META_KEY, MEMBERS_PREFIX, ROLLOUTS_PREFIX, historyKey } from './etcd-keys.js'
import { campaignEtcd } from './etcd-election.js'
import { registerEtcd } from './etcd-members.js'
import { JitterBackoff, watchEtcd } from './etcd-watch.js'
import { Prober } from './prober.js'
import { unavailable } from './store-error.js'
import type { Candidacy, DocumentSet, Halting, HistoryEntry, LeaderHandlers, MemberInfo, Registration, RoutingStore, Stopper, StoredConfig, SyncState, VersionedDoc, WatchHandlers, WriteOutcome } from './store.js'
import { SyncTracker } from './sync-tracker.js'

export interface EtcdStoreOptions {
  readonly hosts: readonly string[]
  readonly prefix: string
  readonly backoff?: BackoffPolicy
  /** Deadline of each unary call, ms. */
  readonly callTimeoutMs?: number
  /** How often reachability is confirmed while nothing else talks to etcd, ms. */
  readonly probeIntervalMs?: number
  /** A member disappears this long after its process stops renewing. */
  readonly memberTtlSeconds?: number
  /** The leader's lease: a dead leader is replaced within this. */
  readonly leaseDurationMs?: number
}

/** A document and the mod revisions a write must find unchanged. */
export interface EtcdSnapshot {
  readonly doc: StoredConfig | undefined
  /** As recorded in config.meta (its sha256 may differ from the text's). */
  readonly meta: DocumentMeta | undefined
  readonly configMod: string
  readonly metaMod: string
  /** The store revision this snapshot was read at. */
  readonly revision: string
}

export class EtcdStore implements RoutingStore {
  readonly description: string
  readonly rollouts: DocumentSet
  readonly #client: Etcd3
  readonly #ns: Namespace
  readonly #tracker = new SyncTracker()
  readonly #prober: Prober
  readonly #stoppers = new Set<Stopper>()
  readonly #halting = new Set<Halting>()

  constructor (readonly options: EtcdStoreOptions) {
    const backoff = options.backoff ?? DEFAULT_BACKOFF
    const callTimeoutMs = options.callTimeoutMs ?? 5000
    this.description = `etcd://${options.hosts.map(h => h.replace(/^https?:\/\//, '')).join(',')}${options.prefix}`
    this.#client = new Etcd3({
      hosts: [...options.hosts],
      dialTimeout: callTimeoutMs,
      defaultCallOptions: ctx => ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs },
      // gRPC's own reconnect backoff grows to 120 s; capped here so a store
      // back from an outage is found again within one backoff step.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': backoff.baseMs, 'grpc.max_reconnect_backoff_ms': backoff.maxMs },
      faultHandling: {
        // The default breaker shuts a host out for 5 s after three failures,
        // which would delay the catch-up after an outage for no gain here.
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: backoff.baseMs, breaker: new ConsecutiveBreaker(3) }),
        watchBackoff: new JitterBackoff(backoff)
      }
    })
    this.#ns = this.#client.namespace(`${options.prefix}/`)
    this.#prober = new Prober(async () => { await this.#ns.get(META_KEY).exec() }, this.#tracker, options.probeIntervalMs ?? 5000, backoff)
    this.rollouts = this.#documents(ROLLOUTS_PREFIX)
  }

  /** Documents under `prefix`, one key each; a put is a transaction on the key's mod revision (create revision 0: absent). */
  #documents (prefix: string): DocumentSet {
    const ns = this.#ns.namespace(prefix)
    const docOf = (kv: IKeyValue): VersionedDoc => ({ name: kv.key.toString(), text: kv.value.toString(), version: kv.mod_revision })
    return {
      location: `${this.description}/${prefix}`,
      list: async () => (await this.#call('list the rollouts', () => ns.getAll().sort('Key', 'Ascend').exec())).kvs.map(docOf),
      get: async name => {
        const kv = (await this.#call('read a rollout', () => ns.get(name).exec())).kvs[0]
        return kv === undefined ? undefined : docOf(kv)
      },
      put: async (name, text, expected) => {
        const res = await this.#call('write a rollout', () => ns
          .if(name, expected === undefined ? 'Create' : 'Mod', '==', expected ?? 0)
          .then(ns.put(name).value(text))
          .commit())
        // A transaction's puts take the revision it ran at: the key's new mod revision.
        return res.succeeded ? res.header.revision : undefined
      }
    }
  }

  get sync (): SyncState {
    return this.#tracker.state
  }

  /** The raw client, for tests that compact or inspect. */
  get client (): Etcd3 {
    return this.#client
  }

  async #call<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn()
      this.#tracker.ok()
      return result
    } catch (err) {
      this.#tracker.fail(err)
      throw unavailable(this.description, what, err)
    }
  }

  /** Reads config and config.meta together, at one store revision (keys come back without the prefix). */
  async snapshot (): Promise<EtcdSnapshot> {
    const res = await this.#call('read the routing', () => this.#ns.getAll().prefix(CONFIG_KEY).exec())
    const kv = (key: string): IKeyValue | undefined => res.kvs.find(k => k.key.toString() === key)
    const config = kv(CONFIG_KEY)
    const meta = kv(META_KEY)
    const recorded = parseMeta(meta?.value.toString())
    return {
      doc: config === undefined ? undefined : storedConfig(config.value.toString(), recorded),
      meta: recorded,
      configMod: config?.mod_revision ?? '0',
      metaMod: meta?.mod_revision ?? '0',
      revision: res.header.revision
    }
  }

  async read (): Promise<StoredConfig | undefined> {
    return (await this.snapshot()).doc
  }

  watch (handlers: WatchHandlers): Stopper {
    return this.#track(watchEtcd(this.#ns, () => this.snapshot(), this.#tracker, handlers, this.options.backoff ?? DEFAULT_BACKOFF))
  }

  async createIfAbsent (text: string): Promise<WriteOutcome> {
    const last = (await this.history()).at(-1)
    return await this.#commit(text, { revision: (last?.revision ?? 0) + 1, configMod: '0', metaMod: '0' })
  }

  async writeIfRevision (text: string, expectedRevision: number): Promise<WriteOutcome> {
    const snap = await this.snapshot()
    if (snap.doc === undefined || snap.doc.revision !== expectedRevision) return { ok: false, current: snap.doc?.revision }
    return await this.#commit(text, { revision: expectedRevision + 1, configMod: snap.configMod, metaMod: snap.metaMod })
  }

  async #commit (text: string, w: { revision: number, configMod: string, metaMod: string }): Promise<WriteOutcome> {
    const meta: DocumentMeta = { revision: w.revision, sha256: sha256(text) }
    const res = await this.#call('write the routing', () => this.#ns
      .if(CONFIG_KEY, 'Mod', '==', w.configMod)
      .and(META_KEY, 'Mod', '==', w.metaMod)
      .then(this.#ns.put(CONFIG_KEY).value(text), this.#ns.put(META_KEY).value(JSON.stringify(meta)))
      .commit())
    if (res.succeeded) return { ok: true, revision: w.revision }
    return { ok: false, current: (await this.snapshot()).doc?.revision }
  }

  async history (): Promise<HistoryEntry[]> {
    const values = await this.#call('read the history', () => this.#ns.getAll().prefix(HISTORY_PREFIX).sort('Key', 'Ascend').strings())
    return Object.values(values).flatMap(v => {
      const e = parseJson(v)
      return e === undefined ? [] : [e]
    }).map(parseHistoryEntry).filter((e): e is HistoryEntry => e !== undefined)
  }

  async recordHistory (entry: HistoryEntry, limit: number): Promise<void> {
    const key = historyKey(entry.revision)
    // Create-only: every replica may record the same revision; the first wins.
    await this.#call('record history', () => this.#ns.if(key, 'Create', '==', 0).then(this.#ns.put(key).value(JSON.stringify(entry))).commit())
    const keys = await this.#call('read the history', () => this.#ns.getAll().prefix(HISTORY_PREFIX).sort('Key', 'Ascend').keys())
    const old = keys.slice(0, Math.max(0, keys.length - limit))
    if (old.length > 0) await this.#call('trim the history', () => Promise.all(old.map(k => this.#ns.delete().key(k).exec())))
  }

  register (member: MemberInfo): Registration {
    const r = registerEtcd(this.#ns, MEMBERS_PREFIX, member, this.options.memberTtlSeconds ?? 10, this.#tracker, this.options.backoff ?? DEFAULT_BACKOFF)
    this.#halting.add(r)
    return r
  }

  async members (): Promise<MemberInfo[]> {
    const values = await this.#call('list the members', () => this.#ns.getAll().prefix(MEMBERS_PREFIX).sort('Key', 'Ascend').strings())
    return Object.values(values).map(parseJson).filter((m): m is MemberInfo => isMember(m))
  }

  campaign (identity: string, handlers: LeaderHandlers): Candidacy {
    const c = campaignEtcd(this.#ns, ELECTION_PREFIX, identity, handlers, Math.max(1, Math.round((this.options.leaseDurationMs ?? 15_000) / 1000)), this.options.backoff ?? DEFAULT_BACKOFF)
    this.#halting.add(c)
    return c
  }

  #track<T extends Stopper> (s: T): T {
    this.#stoppers.add(s)
    return s
  }

  async close (): Promise<void> {
    this.#prober.stop()
    for (const h of this.#halting) h.halt()
    await Promise.all([...this.#stoppers].map(s => s.stop().catch(() => undefined)))
    this.#client.close()
  }
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

export function isMember (m: unknown): m is MemberInfo {
  if (typeof m !== 'object' || m === null) return false
  const r = m as Record<string, unknown>
  return typeof r.id === 'string' && typeof r.adminUrl === 'string' && Number.isSafeInteger(r.appliedRevision) && typeof r.syncedAt === 'string'
}
