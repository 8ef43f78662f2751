/**
 * Label values come from the config and from small fixed sets only: a client
 * sending thousands of distinct paths, hosts, header values, cookies, query
 * strings and methods adds no series.
 */
import t from 'tap'
import { startBackends } from '../helpers/backends.js'
import { scrape } from '../helpers/exposition.js'
import { startWith } from '../helpers/switchyard.js'
import { methodIndex, METHODS } from '../../src/observability/series-cell.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

t.test('methods outside the fixed list are OTHER', async t => {
  for (const m of METHODS.slice(0, -1)) t.equal(METHODS[methodIndex(m)], m)
  for (const m of ['PROPFIND', 'get', 'MKCOL', 'PURGE', '', undefined, 'X'.repeat(10_000)]) t.equal(METHODS[methodIndex(m)], 'OTHER')
})

t.test('thousands of hostile requests add no series', async t => {
  const p = await startWith({
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [
      { name: 'internal', match: { host: 'internal.test' }, to: 'canary' },
      {
        name: 'web',
        rules: [{ name: 'beta', when: { query: { variant: { present: true } } }, to: 'canary' }],
        // Weight 0 keeps every sticky user on stable, so the series set is known up front.
        split: { stable: 1, canary: 0 },
        sticky: { cookie: 'sy_id' }
      }
    ]
  })
  t.teardown(() => p.close())

  // Warm-up: one request per series the hostile traffic may legitimately use.
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'] as const) {
    t.equal((await p.send({ path: '/', method, headers: { cookie: 'sy_id=warm' } })).status, 200)
  }
  await p.get('/') // a new user: the sticky assignment series
  await p.get('/?variant=1')
  const before = await scrape(p.sy.adminUrl)
  const keys = before.seriesKeys('switchyard_')
  const total = before.sum('switchyard_requests_total')

  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'REPORT', 'COPY', 'MOVE']
  const n = 3000
  const batch = 50
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: batch }, async (_, j) => {
      const k = i + j
      const r = await p.send({
        path: `/evil-${k}/${'x'.repeat(k % 200)}?q=evil-${k}&evil-${k}=1`,
        method: methods[k % methods.length],
        headers: {
          host: `evil-${k}.test`,
          'user-agent': `evil-agent-${k}`,
          'x-request-id': `evil-${k}`,
          'x-forwarded-for': `10.0.${k % 256}.${k % 7}`,
          ...(k % 3 === 0 ? {} : { cookie: `sy_id=evil-user-${k}; evil-${k}=evil-${k}` })
        }
      })
      if (r.status !== 200) t.fail(`request ${k}: ${r.status}`)
    }))
  }

  const after = await scrape(p.sy.adminUrl)
  t.same(after.seriesKeys('switchyard_'), keys, 'the same series, no new ones')
  t.equal(after.sum('switchyard_requests_total') - total, n, 'every request was counted')
  let unlisted = 0
  for (let k = 0; k < n; k++) if (!(METHODS as readonly string[]).includes(methods[k % methods.length]!)) unlisted++
  t.equal(after.sum('switchyard_requests_total', { method: 'OTHER' }) - before.sum('switchyard_requests_total', { method: 'OTHER' }), unlisted, 'unlisted methods are OTHER')
  const leaked = after.samples.filter(s => s.name.startsWith('switchyard_') && Object.values(s.labels).some(v => v.includes('evil')))
  t.same(leaked, [], 'no label value came from the request')
})
