/**
 * Every kustomize folder under k8s/ renders, without warnings, into exactly
 * the objects listed here, each valid against its Kubernetes schema.
 */
import t from 'tap'
import { kustomizeDirs, kustomizeMissing, render } from '../helpers/kustomize.js'
import { schemaError } from '../helpers/k8s-schemas.js'

const BASE = ['ConfigMap/switchyard', 'Deployment/switchyard', 'PodDisruptionBudget/switchyard', 'Service/switchyard']
const TESTPAGE = ['Deployment/testpage-v05', 'Deployment/testpage-v06', 'Service/testpage-v05', 'Service/testpage-v06']

const EXPECTED: Record<string, string[]> = {
  'k8s/base': BASE,
  'k8s/ingress': [...BASE, 'HorizontalPodAutoscaler/switchyard'],
  'k8s/monitoring': ['PodMonitor/switchyard'],
  'k8s/sidecar': ['ConfigMap/switchyard-sidecar', 'Deployment/client'],
  'k8s/examples/testpage': TESTPAGE,
  'k8s/examples/recreate': [...BASE, 'Deployment/testpage', 'Service/testpage'],
  'k8s/examples/ramped': [...BASE, 'Deployment/testpage', 'Service/testpage'],
  'k8s/examples/blue-green': [...BASE, ...TESTPAGE],
  'k8s/examples/canary': [...BASE, ...TESTPAGE],
  'k8s/examples/ab-testing': [...BASE, ...TESTPAGE]
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
