/**
 * Every switchyard container in k8s/ agrees with the image it runs and the
 * config it reads: the command is the image's CMD, the config volume sits on
 * --config's directory, probes, ports and scrape annotations point at the
 * config's own admin and proxy ports, and the hardening is all there.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from '../../src/config/defaults.js'
import { execForm } from '../helpers/dockerfile.js'
import { deploymentsOf, servicesOf } from '../helpers/k8s-schemas.js'
import { kustomizeDirs, kustomizeMissing, render, type K8sObject } from '../helpers/kustomize.js'
import { repoPath, runtimeStage } from '../helpers/repo.js'
import { parseConfig, switchyardPods, type SwitchyardPod } from '../helpers/switchyard-pods.js'

const missing = kustomizeMissing()
const skip = missing === undefined ? false : `${missing}; run with KUBECTL=$(.ci/kubectl)`
const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version
const CMD = execForm(runtimeStage().instructions.find(i => i.op === 'CMD'))
const renders = missing === undefined ? kustomizeDirs().map(dir => ({ dir, objects: render(dir).objects })) : []

const portNamed = (p: SwitchyardPod, name: string): IContainerPort | undefined => p.container.ports?.find(x => x.name === name)

function checkPod (t: Test, p: SwitchyardPod, objects: readonly K8sObject[]): void {
  const c = p.container
  t.equal(c.image, `switchyard:${version}`, 'the image tag is the package version')
  // The image's CMD, plus --store URL where the routing lives on the Kubernetes API.
  const storeAt = c.args?.indexOf('--store') ?? -1
  const store = storeAt < 0 ? undefined : c.args?.[storeAt + 1]
  t.same(storeAt < 0 ? c.args : c.args?.slice(0, storeAt), CMD, "args are the image's CMD")
  const storeEnv = c.env?.find(e => e.name === 'SWITCHYARD_STORE')
  if (store !== undefined || storeEnv !== undefined) {
    // A fleet member: named and addressed by the downward API (switchyard status lists it so).
    t.same(c.env?.find(e => e.name === 'POD_NAME')?.valueFrom?.fieldRef, { fieldPath: 'metadata.name' }, 'POD_NAME from the downward API')
    t.same(c.env?.find(e => e.name === 'POD_IP')?.valueFrom?.fieldRef, { fieldPath: 'status.podIP' }, 'POD_IP from the downward API')
  }

  // The config file: a read-only ConfigMap directory mount on --config's directory.
  const mount = c.volumeMounts?.find(m => m.mountPath === dirname(p.configPath))
  t.ok(mount, `a volume is mounted on ${dirname(p.configPath)}`)
  t.equal(mount?.readOnly, true)
  t.equal(mount?.subPath, undefined, 'no subPath: it would never see an update')
  t.ok(p.configVolume?.configMap, 'the volume is a ConfigMap')
  t.type(p.configText, 'string', 'the ConfigMap holds the file --config names')
  const config = parseConfig(p.configText)
  const admin = { ...DEFAULT_ADMIN, ...config.admin }
  const listen = { ...DEFAULT_LISTEN, ...config.listen }

  // Admin listener: reachable on the pod IP, probed and scraped on its own port.
  t.equal(admin.host, '0.0.0.0', 'admin binds 0.0.0.0 so probes and scrapes reach it')
  t.equal(portNamed(p, 'sy-admin')?.containerPort, admin.port, 'port sy-admin is the config admin port')
  t.same(c.readinessProbe?.httpGet, { path: '/readyz', port: 'sy-admin' })
  t.same(c.livenessProbe?.httpGet, { path: '/healthz', port: 'sy-admin' })
  const annotations = p.deployment.spec?.template.metadata?.annotations ?? {}
  t.same(annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(admin.port), 'prometheus.io/path': '/metrics' })

  // Proxy listener: published as sy-proxy unless it is loopback-only (a sidecar's).
  if (listen.host === '127.0.0.1') {
    t.equal(portNamed(p, 'sy-proxy'), undefined, 'a loopback proxy declares no port')
  } else {
    t.equal(portNamed(p, 'sy-proxy')?.containerPort, listen.port, 'port sy-proxy is the config listen port')
  }

  // Hardening, container settings winning over the pod's.
  const sc = { ...p.pod.securityContext, ...c.securityContext }
  t.equal(sc.runAsNonRoot, true)
  t.not(sc.runAsUser, 0)
  t.equal(sc.seccompProfile?.type, 'RuntimeDefault')
  t.equal(c.securityContext?.allowPrivilegeEscalation, false)
  t.equal(c.securityContext?.readOnlyRootFilesystem, true)
  t.same(c.securityContext?.capabilities?.drop, ['ALL'])
  if (store?.startsWith('kubernetes://') === true) {
    // The Kubernetes API is the store: the pod runs as the ServiceAccount of k8s/rbac, bound in the same render.
    t.equal(p.pod.automountServiceAccountToken, true, 'the token is mounted for the Kubernetes store')
    t.equal(p.pod.serviceAccountName, 'switchyard')
    t.ok(objects.some(o => o.kind === 'RoleBinding' && o.metadata.name === 'switchyard'), 'its Role and RoleBinding are rendered with it')
    t.match(store, /^kubernetes:\/\/\/[a-z0-9-]+$/, 'the store is a ConfigMap of the pod\'s own namespace')
  } else {
    t.equal(p.pod.automountServiceAccountToken, false, 'no Kubernetes API access without a Kubernetes store')
  }
  t.ok(c.resources?.requests?.cpu !== undefined && c.resources.requests.memory !== undefined && c.resources.limits?.memory !== undefined, 'cpu and memory requests, a memory limit')

  // The revision history needs a writable directory on a read-only root.
  const stateDir = c.env?.find(e => e.name === 'SWITCHYARD_STATE_DIR')?.value
  const stateMount = c.volumeMounts?.find(m => m.mountPath === stateDir)
  t.ok(p.pod.volumes?.find(v => v.name === stateMount?.name)?.emptyDir, 'SWITCHYARD_STATE_DIR is an emptyDir mount')
  t.same(c.env?.find(e => e.name === 'SWITCHYARD_ADMIN_TOKEN')?.valueFrom?.secretKeyRef, { name: 'switchyard-admin', key: 'token', optional: true })

  if (p.sidecar) {
    t.equal(c.restartPolicy, 'Always', 'a native sidecar')
    t.same(c.startupProbe?.httpGet, { path: '/readyz', port: 'sy-admin' }, 'the app starts once switchyard is ready')
    return
  }
  // Its own Deployment: drained on the way out, and covered by a PDB and a Service.
  const sleep = c.lifecycle?.preStop?.exec?.command
  t.equal(sleep?.[0], 'sleep')
  t.ok((p.pod.terminationGracePeriodSeconds ?? 30) >= Number(sleep?.[1]) + 30, 'the grace period leaves 30 s to drain after preStop')
  const labels = p.deployment.spec?.template.metadata?.labels ?? {}
  const selects = (sel: Record<string, string> | undefined): boolean => sel !== undefined && Object.entries(sel).every(([k, v]) => labels[k] === v)
  t.ok(objects.some(o => o.kind === 'PodDisruptionBudget' && selects((o as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector?.matchLabels)), 'a PodDisruptionBudget covers it')
  t.ok(servicesOf(objects).some(s => selects(s.spec?.selector) && s.spec?.ports?.every(x => x.targetPort === 'sy-proxy')), 'a Service sends to sy-proxy')
}

t.test('switchyard containers agree with the image and their config', { skip }, async t => {
  const seen: string[] = []
  for (const { dir, objects } of renders) {
    for (const p of switchyardPods(objects)) {
      seen.push(`${dir} ${p.name}`)
      t.test(`${dir} ${p.name}`, async t => { checkPod(t, p, objects) })
    }
  }
  t.same(seen.filter(s => s.includes('(sidecar)')), ['k8s/sidecar Deployment/client (sidecar)'])
  t.equal(seen.length, 9, 'base, ingress, sidecar, five strategies and etcd')
})

t.test('every Service sends to a named port of the pods it selects', { skip }, async t => {
  for (const { dir, objects } of renders) {
    for (const s of servicesOf(objects)) {
      const sel = s.spec?.selector ?? {}
      const pods = deploymentsOf(objects).map(d => d.spec?.template).filter(tpl => Object.entries(sel).every(([k, v]) => tpl?.metadata?.labels?.[k] === v))
      t.equal(pods.length, 1, `${dir} Service/${s.metadata?.name ?? ''} selects one Deployment's pods`)
      const names = pods.flatMap(p => [...(p?.spec?.containers ?? []), ...(p?.spec?.initContainers ?? [])]).flatMap(c => c.ports ?? []).map(x => x.name)
      for (const port of s.spec?.ports ?? []) t.ok(names.includes(String(port.targetPort)), `${dir} Service/${s.metadata?.name ?? ''} → ${String(port.targetPort)}`)
    }
  }
})

t.test('the ingress autoscales the switchyard Deployment, which leaves replicas to it', { skip }, async t => {
  const objects = renders.find(r => r.dir === 'k8s/ingress')?.objects ?? []
  const hpa = objects.find(o => o.kind === 'HorizontalPodAutoscaler') as { spec?: { scaleTargetRef?: unknown, minReplicas?: number } } | undefined
  t.same(hpa?.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'switchyard' })
  t.equal(deploymentsOf(objects).find(d => d.metadata?.name === 'switchyard')?.spec?.replicas, undefined)
})

t.test('the PodMonitor scrapes the port every switchyard container names sy-admin', { skip }, async t => {
  const monitor = renders.find(r => r.dir === 'k8s/monitoring')?.objects[0] as { spec?: { selector?: unknown, podMetricsEndpoints?: unknown } } | undefined
  t.same(monitor?.spec?.selector, {})
  t.same(monitor?.spec?.podMetricsEndpoints, [{ port: 'sy-admin', path: '/metrics', interval: '15s' }])
})
