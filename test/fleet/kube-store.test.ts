/** The store conformance suite against the fake Kubernetes API server, through @kubernetes/client-node. */
import t from 'tap'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { KubeStore } from '../../src/fleet/kube-store.js'
import { startFakeKubeApiServer } from '../helpers/fake-kube-apiserver.js'
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js'
import { storeConformance } from './store.conformance.js'

const NS = 'fleet'

t.test('kubernetes store', async t => {
  const fake = await startFakeKubeApiServer({ token: 'fleet-token' })
  t.teardown(() => fake.close())
  const gates: TcpGate[] = []
  t.teardown(() => Promise.all(gates.map(g => g.close())))
  const kubeConfig = (server?: string): KubeConfig => {
    const kc = new KubeConfig()
    kc.loadFromString(server === undefined ? fake.kubeconfig(NS) : fake.kubeconfig(NS).replace(fake.url, server))
    return kc
  }
  const admin = kubeConfig().makeApiClient(CoreV1Api)
  const name = (scope: string): string => `routes-${scope}`

  storeConformance(t, {
    leaseMs: 2000,
    open: async scope => {
      const gate = await startTcpGate('127.0.0.1', Number(new URL(fake.url).port))
      gates.push(gate)
      const store = new KubeStore({
        namespace: NS,
        configMap: name(scope),
        key: 'switchyard.yaml',
        kubeConfig: kubeConfig(`http://${gate.hostPort}`),
        backoff: { baseMs: 50, maxMs: 500 },
        callTimeoutMs: 1000,
        probeIntervalMs: 200,
        memberTtlSeconds: 2,
        leader: { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 }
      })
      return { store, cut: () => gate.cut(), reopen: () => gate.reopen() }
    },
    outage: () => fake.stop(),
    recover: () => fake.start(),
    compact: async () => { fake.compact() },
    editExternally: async (scope, text) => {
      const cm = await admin.readNamespacedConfigMap({ namespace: NS, name: name(scope) })
      await admin.replaceNamespacedConfigMap({ namespace: NS, name: name(scope), body: { ...cm, data: { 'switchyard.yaml': text } } })
    }
  })
})
