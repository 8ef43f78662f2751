/** In a pod the Kubernetes store authenticates as its ServiceAccount: the token file the kubelet mounts. */
import t from 'tap'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultKubeConfig } from '../../src/fleet/kube-store.js'

t.test('KUBERNETES_SERVICE_HOST set: the API server from the env, the token from the ServiceAccount mount', async t => {
  const root = mkdtempSync(join(tmpdir(), 'sy-pod-'))
  const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
  mkdirSync(sa, { recursive: true })
  writeFileSync(join(sa, 'token'), 'pod-token')
  writeFileSync(join(sa, 'namespace'), 'payments')
  writeFileSync(join(sa, 'ca.crt'), '')
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT }
  t.teardown(() => {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) Reflect.deleteProperty(process.env, k)
      else process.env[k] = v
    }
  })
  process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1'
  process.env.KUBERNETES_SERVICE_PORT = '443'
  const kc = defaultKubeConfig(root)
  t.equal(kc.getCurrentCluster()?.server, 'https://10.96.0.1:443')
  t.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'payments')
  const init = await kc.applyToFetchOptions({})
  const headers = new Headers(init.headers as Record<string, string>)
  t.equal(headers.get('authorization'), 'Bearer pod-token', 'every request carries the ServiceAccount token')
})
