/**
 * Replicas of switchyard on a fleet's store, for the fleet tests: one
 * harness per store (a real 3-member etcd cluster, the fake Kubernetes API
 * server), each replica a real switchyard in this process (proxy and admin
 * listeners on 127.0.0.1, port 0) with its own config file and state
 * directory, on a store client with test timings (fast probes and retries).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { Etcd3 } from 'etcd3'
import { pino } from 'pino'
import { stringify } from 'yaml'
import { createSwitchyard, type RolloutOptions, type Switchyard } from '../../src/app/switchyard.js'
import { EtcdStore } from '../../src/fleet/etcd-store.js'
import { KubeStore } from '../../src/fleet/kube-store.js'
import type { RoutingStore } from '../../src/fleet/store.js'
import { startBackends } from './backends.js'
import { startEtcdCluster } from './etcd-cluster.js'
import { startFakeKubeApiServer } from './fake-kube-apiserver.js'

export interface FleetHarness {
  readonly name: string
  /** The store URL the CLI's `--store` takes for `scope`. */
  url (scope: string): string
  /** Environment the CLI needs for that URL (a kubeconfig). */
  readonly env: NodeJS.ProcessEnv
  /** A new store client (one replica's) on the routing of `scope`. */
  open (scope: string): RoutingStore
  /** Breaks one part of the store that a healthy store survives (etcd: one member killed; Kubernetes: every watch stream dropped). */
  disruptOne (): Promise<void>
  /** Replaces the routing text behind switchyard's back (etcdctl put, kubectl edit). */
  editExternally (scope: string, text: string): Promise<void>
  /** Undoes disruptOne (the etcd member restarted). */
  repairOne (): Promise<void>
  /** The whole store out of reach (every etcd member stopped; the API server down), and back. */
  outage (): Promise<void>
  recover (): Promise<void>
  close (): Promise<void>
}

const TIMINGS = { backoff: { baseMs: 50, maxMs: 500 }, callTimeoutMs: 1000, probeIntervalMs: 200, memberTtlSeconds: 2 }

export async function etcdHarness (): Promise<FleetHarness> {
  const cluster = await startEtcdCluster()
  return {
    name: 'etcd',
    url: scope => `etcd://${cluster.hosts}/fleet-${scope}`,
    env: {},
    open: scope => new EtcdStore({ hosts: cluster.members.map(m => m.clientUrl), prefix: `/fleet-${scope}`, ...TIMINGS, leaseDurationMs: 2000 }),
    editExternally: async (scope, text) => {
      const raw = new Etcd3({ hosts: cluster.members.filter(m => m.running).map(m => m.clientUrl) })
      try {
        await raw.put(`/fleet-${scope}/config`).value(text)
      } finally {
        raw.close()
      }
    },
    disruptOne: () => cluster.kill(0),
    repairOne: () => cluster.restart(0),
    outage: async () => { await Promise.all(cluster.members.map((_, i) => cluster.stop(i))) },
    recover: () => cluster.restart(...cluster.members.map((_, i) => i)),
    close: () => cluster.close()
  }
}

export async function kubeHarness (): Promise<FleetHarness> {
  const fake = await startFakeKubeApiServer({ token: 'fleet-token' })
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-kubeconfig-'))
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(kubeconfig, fake.kubeconfig('fleet'))
  return {
    name: 'kubernetes',
    url: scope => `kubernetes://fleet/routes-${scope}`,
    env: { KUBECONFIG: kubeconfig, KUBERNETES_SERVICE_HOST: undefined },
    open: scope => {
      const kc = new KubeConfig()
      kc.loadFromString(fake.kubeconfig('fleet'))
      return new KubeStore({ namespace: 'fleet', configMap: `routes-${scope}`, key: 'switchyard.yaml', kubeConfig: kc, ...TIMINGS, leader: { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 } })
    },
    editExternally: async (scope, text) => {
      const kc = new KubeConfig()
      kc.loadFromString(fake.kubeconfig('fleet'))
      const api = kc.makeApiClient(CoreV1Api)
      const cm = await api.readNamespacedConfigMap({ namespace: 'fleet', name: `routes-${scope}` })
      await api.replaceNamespacedConfigMap({ namespace: 'fleet', name: `routes-${scope}`, body: { ...cm, data: { ...cm.data, 'switchyard.yaml': text } } })
    },
    disruptOne: async () => { fake.dropWatches() },
    repairOne: async () => {},
    outage: () => fake.stop(),
    recover: () => fake.start(),
    close: async () => {
      await fake.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export interface Replica {
  readonly name: string
  readonly dir: string
  readonly sy: Switchyard
  /** When each revision went live here (epoch ms). */
  readonly appliedAt: Map<number, number>
  /** Its log lines (JSON), info and up. */
  readonly logs: string[]
  close (): Promise<void>
}

/** A replica's local file: its own listeners (port 0) and the routing that seeds an empty store. */
export function replicaConfig (routing: Record<string, unknown>): string {
  return stringify({ listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, shutdown: { drainDelay: '0s' }, ...routing })
}

/** Starts a replica named `name` on `scope`; `dir` reuses a state directory (a restart); `rollouts` tunes its rollout controller (an injected clock, driven looks). */
export async function startReplica (h: FleetHarness, scope: string, name: string, routing: Record<string, unknown>, dir?: string, rollouts?: RolloutOptions): Promise<Replica> {
  const home = dir ?? await mkdtemp(join(tmpdir(), `switchyard-${name}-`))
  const configPath = join(home, 'switchyard.yaml')
  await writeFile(configPath, replicaConfig(routing))
  const logs: string[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(line) } })
  const sy = await createSwitchyard({ configPath, store: h.open(scope), identity: name, stateDir: home, logger, rollouts })
  const appliedAt = new Map<number, number>([[sy.live.current.revision, Date.now()]])
  sy.live.on('reload', outcome => { if (outcome.result === 'success') appliedAt.set(outcome.active.revision, Date.now()) })
  return {
    name,
    dir: home,
    sy,
    appliedAt,
    logs,
    close: async () => { await sy.close() }
  }
}

/**
 * What every fleet test starts from: a store (closed at teardown), a stable
 * and a canary backend on 127.0.0.1, and the routing of one route `web`
 * split between them as `canary` says.
 */
export async function fleetOnTwoBackends (t: { teardown (fn: () => Promise<void>): void }, makeHarness: () => Promise<FleetHarness>, canary: number): Promise<{ h: FleetHarness, routing: Record<string, unknown> }> {
  const h = await makeHarness()
  t.teardown(async () => { await h.close() })
  const backends = await startBackends(t, 'stable', 'canary')
  const routing = {
    backends: { stable: { targets: [backends.stable.url] }, canary: { targets: [backends.canary.url] } },
    routes: [{ name: 'web', split: { stable: 100 - canary, canary } }]
  }
  return { h, routing }
}

export { until } from './until.js'
