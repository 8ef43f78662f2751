/**
 * Every kustomize folder under k8s/ renders, without warnings, into exactly
 * the objects listed here, each valid against its Kubernetes schema.
 */
import t from 'tap'
import { kustomizeDirs, kustomizeMissing, render } from '../helpers/kustomize.js'
import { schemaError } from '../helpers/k8s-schemas.js'

const BASE = ['ConfigMap/switchyard', 'Deployment/switchyard', 'PodDisruptionBudget/switchyard', 'Service/switchyard']
const RBAC = ['Role/switchyard', 'RoleBinding/switchyard', 'ServiceAccount/switchyard']
const TESTPAGE = ['Deployment/testpage-v05', 'Deployment/testpage-v06', 'Service/testpage-v05', 'Service/testpage-v06']

const EXPECTED: Record<string, string[]> = {
  'k8s/base': BASE,
  'k8s/ingress': [...BASE, ...RBAC, 'HorizontalPodAutoscaler/switchyard'],
  'k8s/monitoring': ['PodMonitor/switchyard'],
  'k8s/rbac': RBAC,
  'k8s/sidecar': ['ConfigMap/switchyard-sidecar', 'Deployment/client', ...RBAC],
  'k8s/examples/testpage': TESTPAGE,
  'k8s/examples/recreate': [...BASE, 'Deployment/testpage', 'Service/testpage'],
  'k8s/examples/ramped': [...BASE, 'Deployment/testpage', 'Service/testpage'],
  'k8s/examples/blue-green': [...BASE, ...TESTPAGE],
  'k8s/examples/canary': [...BASE, ...TESTPAGE],
  'k8s/examples/ab-testing': [...BASE, ...TESTPAGE],
  'k8s/examples/etcd': [...BASE, 'ConfigMap/switchyard-store']
}

const missing = kustomizeMissing()
if (missing !== undefined && process.env.CI !== undefined) t.fail(`CI must render k8s/: ${missing}`)

t.test('every kustomize folder is listed here, and every listed one exists', { skip: missing }, async t => {
  t.same(kustomizeDirs(), Object.keys(EXPECTED).sort())
})

for (const [dir, expected] of Object.entries(EXPECTED)) {
  t.test(dir, { skip: missing === undefined ? false : `${missing}; run with KUBECTL=$(.ci/kubectl)` }, async t => {
    const { objects, stderr } = render(dir)
    t.equal(stderr, '', 'no kustomize warnings (deprecated fields)')
    t.same(objects.map(o => `${o.kind}/${o.metadata.name}`).sort(), [...expected].sort())
    for (const o of objects) t.equal(schemaError(o), undefined, `${o.kind}/${o.metadata.name} matches the ${o.apiVersion} schema`)
  })
}

t.test('k8s/rbac: a namespaced Role with ConfigMaps and Leases only, bound to the ServiceAccount', { skip: missing ?? false }, async t => {
  const { objects } = render('k8s/rbac')
  const role = objects.find(o => o.kind === 'Role')
  t.same(role?.rules, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'create', 'update', 'delete'] }
  ])
  const binding = objects.find(o => o.kind === 'RoleBinding')
  t.same(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'switchyard' })
  t.same(binding?.subjects, [{ kind: 'ServiceAccount', name: 'switchyard' }])
})
