/**
 * `--store URL`: where the fleet keeps its routing.
 *   etcd://HOST[:PORT][,HOST[:PORT]…][/PREFIX]      PORT 2379, PREFIX /switchyard by default
 *   kubernetes://[NAMESPACE]/CONFIGMAP[?key=KEY]     NAMESPACE: the pod's own (ServiceAccount);
 *                                                   KEY: the data key, switchyard.yaml by default
 * Every problem is a StoreError coded SY_ERR_STORE_URL that says what to write instead.
 */
import { readFileSync } from 'node:fs'
import { StoreError } from './store-error.js'

export type StoreLocation =
  | { readonly kind: 'etcd', readonly hosts: readonly string[], readonly prefix: string }
  | { readonly kind: 'kubernetes', readonly namespace: string, readonly configMap: string, readonly key: string }

export const SERVICEACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'
export const DEFAULT_ETCD_PREFIX = '/switchyard'
export const DEFAULT_CONFIGMAP_KEY = 'switchyard.yaml'

/** The pod's namespace, from the file the kubelet mounts with the ServiceAccount token. */
export function inClusterNamespace (file = SERVICEACCOUNT_NAMESPACE_FILE): string | undefined {
  try {
    const ns = readFileSync(file, 'utf8').trim()
    return ns === '' ? undefined : ns
  } catch {
    return undefined
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$/
const PREFIX = /^(\/[A-Za-z0-9._-]+)+$/
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]{1,253}$/

const bad = (url: string, why: string): StoreError => new StoreError('SY_ERR_STORE_URL', `--store ${url}: ${why}`)

export function parseStoreUrl (url: string, namespace: () => string | undefined = inClusterNamespace): StoreLocation {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(url)
  if (m === null) throw bad(url, 'expected etcd://HOST:PORT[,HOST:PORT…]/PREFIX or kubernetes://NAMESPACE/CONFIGMAP')
  const [, scheme = '', authority = '', path = '', query] = m
  if (scheme === 'etcd') return etcdLocation(url, authority, path, query)
  if (scheme === 'kubernetes') return kubernetesLocation(url, authority, path, query, namespace)
  throw bad(url, `unknown scheme ${scheme}:// (etcd:// or kubernetes://)`)
}

function etcdLocation (url: string, authority: string, path: string, query: string | undefined): StoreLocation {
  if (query !== undefined) throw bad(url, 'etcd:// takes no query parameters')
  if (authority === '') throw bad(url, 'no etcd host: etcd://127.0.0.1:2379/switchyard')
  const hosts = authority.split(',').map(h => {
    const hm = HOST.exec(h)
    if (hm === null) throw bad(url, `"${h}" is not HOST, HOST:PORT or [IPv6]:PORT`)
    const port = Number(hm[3] ?? 2379)
    if (port < 1 || port > 65535) throw bad(url, `port ${hm[3] ?? ''} is out of range`)
    return `http://${hm[1] === undefined ? hm[2] ?? '' : `[${hm[1]}]`}:${port}`
  })
  const prefix = path.replace(/\/+$/, '')
  if (prefix !== '' && !PREFIX.test(prefix)) throw bad(url, `prefix "${path}" must be /NAME[/NAME…] of letters, digits, ".", "_" and "-"`)
  return { kind: 'etcd', hosts, prefix: prefix === '' ? DEFAULT_ETCD_PREFIX : prefix }
}

function kubernetesLocation (url: string, authority: string, path: string, query: string | undefined, namespace: () => string | undefined): StoreLocation {
  const configMap = path.replace(/^\//, '')
  if (configMap === '' || !DNS_SUBDOMAIN.test(configMap) || configMap.length > 63) {
    throw bad(url, `"${configMap}" is not a ConfigMap name (lowercase DNS name, at most 63 characters: its history and member objects carry it in a label)`)
  }
  let ns = authority
  if (ns === '') {
    ns = namespace() ?? ''
    if (ns === '') throw bad(url, `no namespace: write kubernetes://NAMESPACE/${configMap}, or run in a pod (${SERVICEACCOUNT_NAMESPACE_FILE})`)
  }
  if (!DNS_LABEL.test(ns) || ns.length > 63) throw bad(url, `"${ns}" is not a namespace name`)
  let key = DEFAULT_CONFIGMAP_KEY
  for (const [name, value] of new URLSearchParams(query ?? '')) {
    if (name !== 'key') throw bad(url, `unknown parameter "${name}" (only key=)`)
    if (!CONFIGMAP_KEY.test(value)) throw bad(url, `key "${value}" is not a ConfigMap data key`)
    key = value
  }
  return { kind: 'kubernetes', namespace: ns, configMap, key }
}
