/**
 * The fleet's rollouts on the Kubernetes API: one ConfigMap per route,
 * labelled with the routing ConfigMap it belongs to (kube-objects.ts names
 * it), the state under one data key. A put creates it (AlreadyExists: someone
 * else did first) or replaces it carrying the resourceVersion read, so a
 * stale writer gets 409 Conflict and nothing is overwritten.
 */
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node'
import { httpStatus, MANAGED_BY, objectName, ROLLOUT_KEY, ROLLOUT_LABEL, ROUTE_ANNOTATION } from './kube-objects.js'
import type { DocumentSet, VersionedDoc } from './store.js'

export interface DocumentsTarget {
  readonly api: CoreV1Api
  readonly namespace: string
  readonly configMap: string
  /** Runs one API call with the store's deadline and reachability tracking. */
  readonly call: <T>(what: string, fn: () => Promise<T>) => Promise<T>
}

export function kubeRollouts (target: DocumentsTarget): DocumentSet {
  const { api, namespace, configMap, call } = target
  const docOf = (o: V1ConfigMap): VersionedDoc | undefined => {
    const name = o.metadata?.annotations?.[ROUTE_ANNOTATION]
    const text = o.data?.[ROLLOUT_KEY]
    const version = o.metadata?.resourceVersion
    return name === undefined || text === undefined || version === undefined ? undefined : { name, text, version }
  }
  const conflicted = (err: unknown): undefined => {
    // 409: someone else wrote first; 404: it was deleted since it was read.
    const code = httpStatus(err)
    if (code === 409 || code === 404) return undefined
    throw err
  }
  return {
    location: `kubernetes://${namespace}/configmaps?labelSelector=${ROLLOUT_LABEL}%3D${configMap}`,
    list: async () => {
      const l = await call('list the rollouts', () => api.listNamespacedConfigMap({ namespace, labelSelector: `${ROLLOUT_LABEL}=${configMap}` }))
      return l.items.flatMap(o => docOf(o) ?? [])
    },
    get: async route => {
      try {
        const o = await call('read a rollout', () => api.readNamespacedConfigMap({ namespace, name: objectName(configMap, 'rollout', route) }))
        return docOf(o)
      } catch (err) {
        if (httpStatus(err) === 404) return undefined
        throw err
      }
    },
    put: async (route, text, expected) => {
      const name = objectName(configMap, 'rollout', route)
      const body: V1ConfigMap = {
        metadata: { name, namespace, labels: { [ROLLOUT_LABEL]: configMap, ...MANAGED_BY }, annotations: { [ROUTE_ANNOTATION]: route }, ...(expected === undefined ? {} : { resourceVersion: expected }) },
        data: { [ROLLOUT_KEY]: text }
      }
      try {
        const written = expected === undefined
          ? await call('create a rollout', () => api.createNamespacedConfigMap({ namespace, body }))
          : await call('write a rollout', () => api.replaceNamespacedConfigMap({ namespace, name, body }))
        return written.metadata?.resourceVersion
      } catch (err) {
        return conflicted(err)
      }
    }
  }
}
