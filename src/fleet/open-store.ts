/** `--store URL` → the RoutingStore it names (see store-url.ts for the forms). */
import { EtcdStore } from './etcd-store.js'
import { KubeStore } from './kube-store.js'
import type { RoutingStore } from './store.js'
import { parseStoreUrl, type StoreLocation } from './store-url.js'

export function openStore (url: string | StoreLocation): RoutingStore {
  const location = typeof url === 'string' ? parseStoreUrl(url) : url
  if (location.kind === 'etcd') return new EtcdStore({ hosts: location.hosts, prefix: location.prefix })
  return new KubeStore({ namespace: location.namespace, configMap: location.configMap, key: location.key })
}
