/**
 * Metrics of the reliability features, from real failures: a dead canary
 * whose traffic fails over to stable (failovers, retries, the ejection,
 * target health, and the responses counted under the backend that served).
 */
import t from 'tap'
import { deadPort, startBackend } from '../helpers/backends.js'
import { scrape } from '../helpers/exposition.js'
import { startWith } from '../helpers/switchyard.js'

t.test('a dead canary with fallback stable', async t => {
  const stable = await startBackend('stable')
  const dead = `http://127.0.0.1:${await deadPort()}`
  const p = await startWith({
    backends: {
      stable: { targets: [stable.url] },
      canary: { targets: [dead], fallback: 'stable', outlierDetection: { consecutiveFailures: 1, baseEjectionTime: '10m' } }
    },
    routes: [{ name: 'web', rules: [{ name: 'beta', when: { headers: { 'x-canary': { present: true } } }, to: 'canary' }], to: 'stable' }]
  })
  t.teardown(async () => { await p.close(); await stable.close() })
  for (let i = 0; i < 10; i++) t.equal((await p.get('/', { 'x-canary': '1' })).status, 200)
  const m = await scrape(p.sy.adminUrl)
  // The first request found the canary target dead, retried (to the fallback) and ejected it;
  // the other nine went straight to the fallback.
  t.same(m.table('switchyard_failovers_total', ['route', 'backend', 'fallback']), { 'route=web,backend=canary,fallback=stable': 10 })
  t.equal(m.value('switchyard_retries_total', { route: 'web', backend: 'canary', reason: 'connect' }), 1)
  t.equal(m.sum('switchyard_retries_total', { route: 'web', backend: 'stable' }), 0)
  t.same(m.table('switchyard_upstream_errors_total', ['route', 'backend', 'target', 'kind']), { [`route=web,backend=canary,target=${dead},kind=connect`]: 1 })
  t.same(m.table('switchyard_outlier_ejections_total', ['target']), { [`target=${dead}`]: 1 })
  t.same(m.table('switchyard_target_healthy', ['backend', 'target']), {
    [`backend=stable,target=${stable.url}`]: 1,
    [`backend=canary,target=${dead}`]: 0
  })
  t.same(m.table('switchyard_requests_total', ['route', 'backend', 'rule', 'code']), { 'route=web,backend=stable,rule=beta,code=200': 10 },
    'the responses count under the backend that served them')
})
