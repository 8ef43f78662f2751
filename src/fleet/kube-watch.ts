/**
 * Watches the routing ConfigMap through the API server (not the kubelet's
 * mount): list it by name, then watch from the list's resourceVersion with
 * bookmarks, and resume from the last version seen whenever the stream ends
 * (the server closes watches after timeoutSeconds; networks drop them). A
 * 410 Gone (the version was compacted away) relists. client-node's informer
 * would do list+watch too, but it stops for good on the first error, asks
 * for no bookmarks and cannot say whether it is in sync.
 */
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node'
import { Watch } from '@kubernetes/client-node'
import { Backoff, type BackoffPolicy } from './backoff.js'
import { sameDocument } from './document.js'
import type { Stopper, StoredConfig, WatchHandlers } from './store.js'
import type { SyncTracker } from './sync-tracker.js'

export interface KubeWatchTarget {
  readonly kubeConfig: KubeConfig
  readonly namespace: string
  readonly configMap: string
  /** Lists the ConfigMap (by name): the object, if any, and the list's resourceVersion. */
  readonly list: () => Promise<{ object: V1ConfigMap | undefined, resourceVersion: string }>
  readonly docOf: (o: V1ConfigMap) => StoredConfig | undefined
}

interface WatchEventObject extends V1ConfigMap {
  code?: number
}

export function watchKube (target: KubeWatchTarget, tracker: SyncTracker, handlers: WatchHandlers, policy: BackoffPolicy): Stopper {
  const watch = new Watch(target.kubeConfig)
  const backoff = new Backoff(policy)
  const unlisten = handlers.state === undefined ? undefined : tracker.listen(handlers.state)
  let stopped = false
  let emitted = false
  let last: StoredConfig | undefined
  let resourceVersion = ''
  let abort: AbortController | undefined
  let timer: NodeJS.Timeout | undefined

  const emit = (doc: StoredConfig | undefined): void => {
    if (emitted && sameDocument(last, doc)) return
    emitted = true
    last = doc
    handlers.change(doc)
  }

  const later = (fn: () => void, ms: number): void => {
    if (!stopped) timer = setTimeout(fn, ms)
  }

  const relist = async (counted: boolean): Promise<void> => {
    if (stopped) return
    try {
      const { object, resourceVersion: rv } = await target.list()
      if (stopped) return
      if (counted) tracker.relisted()
      resourceVersion = rv
      emit(object === undefined ? undefined : target.docOf(object))
      void stream()
    } catch {
      // list() has told the tracker
      later(() => { void relist(counted) }, backoff.next())
    }
  }

  const stream = async (): Promise<void> => {
    let gone = false
    let alive = true
    const onEvent = (type: string, o: WatchEventObject): void => {
      if (!alive) return
      if (type === 'ERROR') {
        gone = o.code === 410
        return
      }
      resourceVersion = o.metadata?.resourceVersion ?? resourceVersion
      tracker.ok()
      if (type === 'ADDED' || type === 'MODIFIED') emit(target.docOf(o))
      else if (type === 'DELETED') emit(undefined)
    }
    const onDone = (err: unknown): void => {
      if (!alive) return
      alive = false
      if (stopped) return
      const status = (err as { statusCode?: number } | null)?.statusCode
      if (gone || status === 410) {
        void relist(true)
      } else if (err !== null && err !== undefined) {
        tracker.fail(err)
        later(() => { void stream() }, backoff.next())
      } else {
        void stream()
      }
    }
    const params = {
      fieldSelector: `metadata.name=${target.configMap}`,
      resourceVersion,
      allowWatchBookmarks: true,
      // Like client-go's reflector: between 5 and 10 minutes, so a fleet's watches do not all end together.
      timeoutSeconds: Math.round(300 * (1 + Math.random()))
    }
    abort = await watch.watch(`/api/v1/namespaces/${target.namespace}/configmaps`, params, onEvent, onDone)
    if (alive && !stopped) {
      tracker.ok()
      backoff.reset()
    }
    if (stopped) abort.abort()
  }

  void relist(false)
  return {
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      unlisten?.()
      abort?.abort()
    }
  }
}
