/** --store URLs: what each form means, and a coded error naming the problem for each bad one. */
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inClusterNamespace, parseStoreUrl } from '../../src/fleet/store-url.js'
import { StoreError } from '../../src/fleet/store-error.js'

const inPod = (): string => 'apps'
const outside = (): undefined => undefined

t.test('good URLs', async t => {
  const cases: Array<[string, unknown]> = [
    ['etcd://127.0.0.1:2379,127.0.0.1:22379/switchyard', { kind: 'etcd', hosts: ['http://127.0.0.1:2379', 'http://127.0.0.1:22379'], prefix: '/switchyard' }],
    ['etcd://etcd-0.etcd,etcd-1.etcd:2380/', { kind: 'etcd', hosts: ['http://etcd-0.etcd:2379', 'http://etcd-1.etcd:2380'], prefix: '/switchyard' }],
    ['etcd://[::1]:2379/a/b-c.d/', { kind: 'etcd', hosts: ['http://[::1]:2379'], prefix: '/a/b-c.d' }],
    ['kubernetes://apps/switchyard', { kind: 'kubernetes', namespace: 'apps', configMap: 'switchyard', key: 'switchyard.yaml' }],
    ['kubernetes:///switchyard', { kind: 'kubernetes', namespace: 'apps', configMap: 'switchyard', key: 'switchyard.yaml' }],
    ['kubernetes://apps/routes.v2?key=routing.yaml', { kind: 'kubernetes', namespace: 'apps', configMap: 'routes.v2', key: 'routing.yaml' }]
  ]
  for (const [url, expected] of cases) t.same(parseStoreUrl(url, inPod), expected, url)
})

t.test('bad URLs: SY_ERR_STORE_URL with what is wrong', async t => {
  const cases: Array<[string, RegExp]> = [
    ['switchyard', /expected etcd:\/\//],
    ['consul://127.0.0.1/x', /unknown scheme consul/],
    ['etcd:///switchyard', /no etcd host/],
    ['etcd://127.0.0.1:99999/x', /port 99999 is out of range/],
    ['etcd://a b/x', /"a b" is not HOST/],
    ['etcd://127.0.0.1/bad prefix', /prefix/],
    ['etcd://127.0.0.1/x?tls=1', /no query/],
    ['kubernetes://apps/', /is not a ConfigMap name/],
    ['kubernetes://apps/Switchyard', /is not a ConfigMap name/],
    [`kubernetes://apps/${'a'.repeat(64)}`, /at most 63/],
    ['kubernetes://Apps/switchyard', /"Apps" is not a namespace/],
    ['kubernetes://apps/switchyard?file=x', /unknown parameter "file"/],
    ['kubernetes://apps/switchyard?key=a/b', /not a ConfigMap data key/]
  ]
  for (const [url, message] of cases) {
    t.throws(() => parseStoreUrl(url, inPod), { code: 'SY_ERR_STORE_URL', message }, url)
  }
  t.throws(() => parseStoreUrl('kubernetes:///switchyard', outside), { code: 'SY_ERR_STORE_URL', message: /no namespace: write kubernetes:\/\/NAMESPACE\/switchyard/ }, 'outside a pod the namespace is required')
  t.ok(new StoreError('SY_ERR_STORE_URL', 'x') instanceof Error)
})

t.test('the in-cluster namespace comes from the ServiceAccount file', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-sa-'))
  const file = join(dir, 'namespace')
  writeFileSync(file, 'payments\n')
  t.equal(inClusterNamespace(file), 'payments')
  t.equal(inClusterNamespace(join(dir, 'missing')), undefined)
  writeFileSync(file, '')
  t.equal(inClusterNamespace(file), undefined)
})
