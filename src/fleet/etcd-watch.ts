/**
 * Watches config and config.meta on etcd: reads both, then watches from the
 * next store revision, applying each revision's events together (a write
 * puts both keys in one transaction, so they arrive in one response) and
 * announcing the document after each revision, in order. etcd3 reconnects a
 * broken watch stream itself and resumes from the last revision it saw; when
 * etcd has compacted that revision away it cancels the watch, and this
 * starts over with a fresh read (a relist).
 */
import type { IKeyValue, Namespace, Watcher } from 'etcd3'
import { Backoff, backoffDelay, type BackoffPolicy } from './backoff.js'
import { parseMeta, sameDocument, storedConfig, type DocumentMeta } from './document.js'
import { CONFIG_KEY, META_KEY } from './etcd-keys.js'
import type { EtcdSnapshot } from './etcd-store.js'
import type { Stopper, StoredConfig, WatchHandlers } from './store.js'
import type { SyncTracker } from './sync-tracker.js'

/** etcd3's watch reconnect backoff (cockatiel's IBackoff shape), with our jitter policy. */
export class JitterBackoff {
  readonly duration: number
  constructor (private readonly policy: BackoffPolicy, private readonly attempt = 0) {
    this.duration = backoffDelay(attempt, policy, Math.random())
  }

  next (): JitterBackoff {
    return new JitterBackoff(this.policy, this.attempt + 1)
  }
}

export function watchEtcd (ns: Namespace, snapshot: () => Promise<EtcdSnapshot>, tracker: SyncTracker, handlers: WatchHandlers, policy: BackoffPolicy): Stopper {
  let stopped = false
  let emitted = false
  let last: StoredConfig | undefined
  let config: string | undefined
  let meta: DocumentMeta | undefined
  let watcher: Watcher | undefined
  let timer: NodeJS.Timeout | undefined
  const backoff = new Backoff(policy)
  const unlisten = handlers.state === undefined ? undefined : tracker.listen(handlers.state)

  const emit = (): void => {
    const doc = config === undefined ? undefined : storedConfig(config, meta)
    if (emitted && sameDocument(last, doc)) return
    emitted = true
    last = doc
    handlers.change(doc)
  }

  const apply = (type: string, kv: IKeyValue): void => {
    const value = type === 'Delete' ? undefined : kv.value.toString()
    const key = kv.key.toString()
    if (key === CONFIG_KEY) config = value
    else if (key === META_KEY) meta = parseMeta(value)
  }

  const start = async (relist: boolean): Promise<void> => {
    if (stopped) return
    let snap: EtcdSnapshot
    try {
      snap = await snapshot()
    } catch {
      timer = setTimeout(() => { void start(relist) }, backoff.next())
      return
    }
    if (stopped) return
    backoff.reset()
    if (relist) tracker.relisted()
    config = snap.doc?.text
    meta = snap.meta
    emit()
    const w = ns.watch().prefix(CONFIG_KEY).startRevision((BigInt(snap.revision) + 1n).toString()).watcher()
    watcher = w
    w.on('connected', () => tracker.ok())
    w.on('disconnected', err => tracker.fail(err))
    w.on('data', res => {
      tracker.ok()
      let revision: string | undefined
      for (const ev of res.events) {
        if (revision !== undefined && ev.kv.mod_revision !== revision) emit()
        revision = ev.kv.mod_revision
        apply(ev.type, ev.kv)
      }
      if (revision !== undefined) emit()
    })
    // A canceled watch: compaction removed the revision it needed.
    w.on('error', () => {
      void w.cancel().catch(() => undefined)
      if (watcher === w) watcher = undefined
      void start(true)
    })
  }

  void start(false)
  return {
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      unlisten?.()
      await watcher?.cancel().catch(() => undefined)
    }
  }
}
