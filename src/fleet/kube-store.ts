/**
 * The routing store on the Kubernetes API (@kubernetes/client-node): the
 * routing ConfigMap read and watched through the API server, updated with
 * its metadata.resourceVersion (a 409 Conflict is a lost race, never an
 * overwrite); history in labelled ConfigMaps; a Lease per member and one for
 * the leader (see kube-objects.ts for the layout). In a pod it authenticates
 * with its ServiceAccount (KubeConfig.loadFromCluster); elsewhere with the
 * kubeconfig kubectl would use.
 */
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node'
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js'
import { parseHistoryEntry, storedConfig } from './document.js'
import { kubeRollouts } from './kube-documents.js'
import { liveMembers, registerKube } from './kube-members.js'
import { HISTORY_LABEL, historyName, httpStatus, MANAGED_BY, MEMBER_LABEL, metaAnnotations, metaOf } from './kube-objects.js'
import { watchKube } from './kube-watch.js'
import { DEFAULT_LEADER_TIMING, electWithLease, type LeaderTiming } from './lease-elector.js'
import { Prober } from './prober.js'
import { unavailable } from './store-error.js'
import type { Candidacy, DocumentSet, Halting, HistoryEntry, LeaderHandlers, MemberInfo, Registration, RoutingStore, Stopper, StoredConfig, SyncState, WatchHandlers, WriteOutcome } from './store.js'
import { SyncTracker } from './sync-tracker.js'

export interface KubeStoreOptions {
  readonly namespace: string
  readonly configMap: string
  /** The ConfigMap data key that holds the routing text. */
  readonly key: string
  /** Default: in-cluster when KUBERNETES_SERVICE_HOST is set, else the default kubeconfig. */
  readonly kubeConfig?: KubeConfig
  readonly backoff?: BackoffPolicy
  readonly callTimeoutMs?: number
  readonly probeIntervalMs?: number
  readonly memberTtlSeconds?: number
  readonly leader?: LeaderTiming
}

/**
 * The ServiceAccount in a pod (KUBERNETES_SERVICE_HOST is set; token, CA and
 * namespace under /var/run/secrets/kubernetes.io/serviceaccount, or under
 * `root` for tests), the user's kubeconfig elsewhere.
 */
export function defaultKubeConfig (root = ''): KubeConfig {
  const kc = new KubeConfig()
  if (process.env.KUBERNETES_SERVICE_HOST !== undefined) kc.loadFromCluster(root)
  else kc.loadFromDefault()
  return kc
}

// History ConfigMaps keep the text under the same key as a kubectl-created one would.
const HISTORY_KEY = 'switchyard.yaml'
const ENTRY_ANNOTATION = 'switchyard.io/entry'

export class KubeStore implements RoutingStore {
  readonly description: string
  readonly rollouts: DocumentSet
  readonly #core: CoreV1Api
  readonly #leases: CoordinationV1Api
  readonly #kc: KubeConfig
  readonly #tracker = new SyncTracker()
  readonly #prober: Prober
  readonly #stoppers = new Set<Stopper>()
  readonly #halting = new Set<Halting>()
  readonly #backoff: BackoffPolicy
  readonly #timeoutMs: number

  constructor (readonly options: KubeStoreOptions) {
    this.description = `kubernetes://${options.namespace}/${options.configMap}`
    this.#kc = options.kubeConfig ?? defaultKubeConfig()
    this.#core = this.#kc.makeApiClient(CoreV1Api)
    this.#leases = this.#kc.makeApiClient(CoordinationV1Api)
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF
    this.#timeoutMs = options.callTimeoutMs ?? 5000
    this.#prober = new Prober(async () => { await this.#get() }, this.#tracker, options.probeIntervalMs ?? 10_000, this.#backoff)
    this.rollouts = kubeRollouts({ api: this.#core, namespace: options.namespace, configMap: options.configMap, call: this.#call })
  }

  get sync (): SyncState {
    return this.#tracker.state
  }

  /** client-node sets no deadline of its own: a hung API server must not hang a caller. */
  #timeout = <T>(p: Promise<T>): Promise<T> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${this.#timeoutMs} ms`)), this.#timeoutMs)
    p.then(v => { clearTimeout(timer); resolve(v) }, (err: unknown) => { clearTimeout(timer); reject(err) })
  })

  /** Runs one API call: an HTTP answer (even an error status) proves the server reachable; no answer is an outage. */
  #call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await this.#timeout(fn())
      this.#tracker.ok()
      return result
    } catch (err) {
      if (httpStatus(err) !== undefined) {
        this.#tracker.ok()
        throw err
      }
      this.#tracker.fail(err)
      throw unavailable(this.description, what, err)
    }
  }

  /** The routing ConfigMap, or undefined when there is none. */
  async #get (): Promise<V1ConfigMap | undefined> {
    const { namespace, configMap: name } = this.options
    try {
      return await this.#call('read the routing', () => this.#core.readNamespacedConfigMap({ namespace, name }))
    } catch (err) {
      if (httpStatus(err) === 404) return undefined
      throw err
    }
  }

  #docOf = (o: V1ConfigMap): StoredConfig | undefined => {
    const text = o.data?.[this.options.key]
    return text === undefined ? undefined : storedConfig(text, metaOf(o))
  }

  async read (): Promise<StoredConfig | undefined> {
    const o = await this.#get()
    return o === undefined ? undefined : this.#docOf(o)
  }

  watch (handlers: WatchHandlers): Stopper {
    const { namespace, configMap } = this.options
    const list = async (): Promise<{ object: V1ConfigMap | undefined, resourceVersion: string }> => {
      const l = await this.#call('list the routing', () => this.#core.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${configMap}` }))
      return { object: l.items[0], resourceVersion: l.metadata?.resourceVersion ?? '' }
    }
    const w = watchKube({ kubeConfig: this.#kc, namespace, configMap, list, docOf: this.#docOf }, this.#tracker, handlers, this.#backoff)
    this.#stoppers.add(w)
    return w
  }

  async #conflict (): Promise<WriteOutcome> {
    return { ok: false, current: (await this.read())?.revision }
  }

  async createIfAbsent (text: string): Promise<WriteOutcome> {
    const { namespace, configMap: name, key } = this.options
    const revision = ((await this.history()).at(-1)?.revision ?? 0) + 1
    const body: V1ConfigMap = { metadata: { name, namespace, annotations: metaAnnotations(text, revision) }, data: { [key]: text } }
    try {
      await this.#call('create the routing', () => this.#core.createNamespacedConfigMap({ namespace, body }))
      return { ok: true, revision }
    } catch (err) {
      if (httpStatus(err) === 409) return await this.#conflict()
      throw err
    }
  }

  async writeIfRevision (text: string, expectedRevision: number): Promise<WriteOutcome> {
    const { namespace, configMap: name, key } = this.options
    const current = await this.#get()
    const doc = current === undefined ? undefined : this.#docOf(current)
    if (current === undefined || doc === undefined || doc.revision !== expectedRevision) return { ok: false, current: doc?.revision }
    const revision = expectedRevision + 1
    // The resourceVersion read stays in the body: the update is conditioned on it.
    const body: V1ConfigMap = {
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, ...metaAnnotations(text, revision) } },
      data: { ...current.data, [key]: text }
    }
    try {
      await this.#call('write the routing', () => this.#core.replaceNamespacedConfigMap({ namespace, name, body }))
      return { ok: true, revision }
    } catch (err) {
      const code = httpStatus(err)
      if (code === 409 || code === 404) return await this.#conflict()
      throw err
    }
  }

  async #historyMaps (): Promise<V1ConfigMap[]> {
    const { namespace, configMap } = this.options
    const list = await this.#call('read the history', () => this.#core.listNamespacedConfigMap({ namespace, labelSelector: `${HISTORY_LABEL}=${configMap}` }))
    return list.items
  }

  async history (): Promise<HistoryEntry[]> {
    return (await this.#historyMaps()).flatMap(o => {
      const fields = parseJson(o.metadata?.annotations?.[ENTRY_ANNOTATION])
      const e = parseHistoryEntry({ ...fields, config: o.data?.[HISTORY_KEY] })
      return e === undefined ? [] : [e]
    }).sort((a, b) => a.revision - b.revision)
  }

  async recordHistory (entry: HistoryEntry, limit: number): Promise<void> {
    const { namespace, configMap } = this.options
    const { config, ...fields } = entry
    const body: V1ConfigMap = {
      metadata: { name: historyName(configMap, entry.revision), namespace, labels: { [HISTORY_LABEL]: configMap, ...MANAGED_BY }, annotations: { [ENTRY_ANNOTATION]: JSON.stringify(fields) } },
      data: { [HISTORY_KEY]: config }
    }
    // Every replica may record the same revision: AlreadyExists means it is there.
    await this.#call('record history', () => this.#core.createNamespacedConfigMap({ namespace, body })).catch((err: unknown) => {
      if (httpStatus(err) !== 409) throw err
    })
    const maps = await this.#historyMaps()
    const revisionOf = (o: V1ConfigMap): number => parseHistoryEntry({ ...parseJson(o.metadata?.annotations?.[ENTRY_ANNOTATION]), config: '' })?.revision ?? 0
    const old = maps.sort((a, b) => revisionOf(a) - revisionOf(b)).slice(0, Math.max(0, maps.length - limit))
    await Promise.all(old.map(o => this.#call('trim the history', () => this.#core.deleteNamespacedConfigMap({ namespace, name: o.metadata?.name ?? '' })).catch((err: unknown) => {
      if (httpStatus(err) !== 404) throw err
    })))
  }

  register (member: MemberInfo): Registration {
    const { namespace, configMap } = this.options
    const r = registerKube({ api: this.#leases, namespace, configMap, call: this.#call, timeout: this.#timeout }, member, this.options.memberTtlSeconds ?? 10, this.#tracker, this.#backoff)
    this.#halting.add(r)
    return r
  }

  async members (): Promise<MemberInfo[]> {
    const { namespace, configMap } = this.options
    const list = await this.#call('list the members', () => this.#leases.listNamespacedLease({ namespace, labelSelector: `${MEMBER_LABEL}=${configMap}` }))
    return liveMembers(list.items, Date.now())
  }

  campaign (identity: string, handlers: LeaderHandlers): Candidacy {
    const { namespace, configMap } = this.options
    const c = electWithLease({ api: this.#leases, namespace, name: `${configMap}-leader`, timeout: this.#timeout }, identity, handlers, this.options.leader ?? DEFAULT_LEADER_TIMING)
    this.#halting.add(c)
    return c
  }

  async close (): Promise<void> {
    this.#prober.stop()
    for (const h of this.#halting) h.halt()
    await Promise.all([...this.#stoppers].map(s => s.stop()))
  }
}

function parseJson (text: string | undefined): Record<string, unknown> {
  try {
    const v = JSON.parse(text ?? '') as unknown
    return typeof v === 'object' && v !== null ? v as Record<string, unknown> : {}
  } catch {
    return {}
  }
}
