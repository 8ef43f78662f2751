/** The store conformance suite against a real 3-member etcd cluster. */
import t from 'tap'
import { Etcd3 } from 'etcd3'
import { EtcdStore } from '../../src/fleet/etcd-store.js'
import { etcdMissing, startEtcdCluster } from '../helpers/etcd-cluster.js'
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js'
import { storeConformance } from './store.conformance.js'

const missing = etcdMissing()
if (missing !== undefined && process.env.CI !== undefined) t.fail(`CI must run etcd: ${missing}`)

t.test('etcd store', { skip: missing ?? false }, async t => {
  const cluster = await startEtcdCluster()
  t.teardown(() => cluster.close())
  const raw = new Etcd3({ hosts: cluster.members.map(m => m.clientUrl) })
  t.teardown(() => raw.close())
  const gates: TcpGate[] = []
  t.teardown(() => Promise.all(gates.map(g => g.close())))
  const prefix = (scope: string): string => `/test/${scope}`

  storeConformance(t, {
    leaseMs: 2000,
    open: async scope => {
      const mine = await Promise.all(cluster.members.map(m => startTcpGate('127.0.0.1', Number(m.hostPort.split(':')[1]))))
      gates.push(...mine)
      const store = new EtcdStore({
        hosts: mine.map(g => `http://${g.hostPort}`),
        prefix: prefix(scope),
        backoff: { baseMs: 50, maxMs: 500 },
        callTimeoutMs: 1000,
        probeIntervalMs: 200,
        memberTtlSeconds: 2,
        leaseDurationMs: 2000
      })
      return { store, cut: () => { for (const g of mine) g.cut() }, reopen: () => { for (const g of mine) g.reopen() } }
    },
    outage: async () => { await Promise.all(cluster.members.map((_, i) => cluster.stop(i))) },
    recover: () => cluster.restart(...cluster.members.map((_, i) => i)),
    compact: async () => {
      const { header } = await raw.get('any').exec()
      await raw.kv.compact({ revision: header.revision, physical: true })
    },
    editExternally: async (scope, text) => { await raw.put(`${prefix(scope)}/config`).value(text) }
  })
})
