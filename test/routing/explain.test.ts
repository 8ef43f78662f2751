/**
 * explain() and the data path agree: the same table-driven requests, read
 * through every RequestView implementation (the proxy's NodeRequestView,
 * the admin API's syntheticView, the tests' plain view), explained and
 * decided; and, for every sticky key, the highest score explain() shows is
 * the backend decide() picks.
 */
import t from 'tap'
import fc from 'fast-check'
import type { IncomingMessage } from 'node:http'
import { decide } from '../../src/routing/decide.js'
import { explain, syntheticView, type SyntheticRequest } from '../../src/routing/explain.js'
import { NodeRequestView } from '../../src/proxy/request-view.js'
import type { RequestView } from '../../src/routing/types.js'
import { fixedEntropy, tableOf, twoBackends, view } from '../helpers/tables.js'
import { holds } from '../helpers/property.js'

const table = tableOf({
  backends: { ...twoBackends, admin: { targets: ['http://127.0.0.1:9009'] } },
  routes: [
    { name: 'admin', match: { host: 'admin.example.com' }, to: 'admin' },
    { name: 'api', match: { path: { prefix: '/api/' }, methods: ['GET', 'POST'] }, split: { stable: 70, canary: 30 }, sticky: { header: 'x-user' } },
    {
      name: 'web',
      rules: [
        { name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' },
        { name: 'optout', when: { cookies: { canary: { exact: 'never' } } }, to: 'stable' },
        { name: 'mobile', when: { userAgent: { regex: 'Android|iPhone' }, query: { variant: { in: ['b'] } } }, split: { stable: 50, canary: 50 } }
      ],
      split: { stable: 90, canary: 10 },
      sticky: { cookie: 'sy_id' }
    }
  ]
})

/** `backend`: a name, `sticky` (decided by the user's key), or null (left to a draw). */
interface Case { desc: string, req: Required<Pick<SyntheticRequest, 'method' | 'host' | 'path'>> & { headers: Record<string, string>, cookies: Record<string, string> }, route: string | null, rule: string | null, backend: string | null }

const req = (init: Partial<Case['req']>): Case['req'] => ({ method: 'GET', host: 'www.example.com', path: '/', headers: {}, cookies: {}, ...init })
const cases: Case[] = [
  { desc: 'host route', req: req({ host: 'admin.example.com' }), route: 'admin', rule: 'split', backend: 'admin' },
  { desc: 'path and method route, sticky by header', req: req({ path: '/api/orders?x=1', headers: { 'x-user': 'u-7' } }), route: 'api', rule: 'split', backend: 'sticky' },
  { desc: 'path route, no sticky header: a draw', req: req({ path: '/api/orders' }), route: 'api', rule: 'split', backend: null },
  { desc: 'method not matched: next route', req: req({ method: 'DELETE', path: '/api/orders' }), route: 'web', rule: 'split', backend: null },
  { desc: 'header rule', req: req({ headers: { 'x-canary': 'always' } }), route: 'web', rule: 'beta', backend: 'canary' },
  { desc: 'cookie rule', req: req({ cookies: { canary: 'never', sy_id: 'u-1' } }), route: 'web', rule: 'optout', backend: 'stable' },
  { desc: 'user agent and query rule, sticky cookie', req: req({ path: '/?variant=b', headers: { 'user-agent': 'Mozilla (Android 14)' }, cookies: { sy_id: 'u-2' } }), route: 'web', rule: 'mobile', backend: 'sticky' },
  { desc: 'no rule, known user', req: req({ cookies: { sy_id: 'u-3' } }), route: 'web', rule: 'split', backend: 'sticky' },
  { desc: 'no rule, new user', req: req({}), route: 'web', rule: 'split', backend: null }
]

/** The same request through each implementation. */
function views (r: Case['req']): Array<[string, RequestView]> {
  const headers = { ...r.headers, host: r.host, ...(Object.keys(r.cookies).length === 0 ? {} : { cookie: Object.entries(r.cookies).map(([k, v]) => `${k}=${v}`).join('; ') }) }
  const q = r.path.indexOf('?')
  return [
    ['NodeRequestView', new NodeRequestView({ method: r.method, url: r.path, headers } as unknown as IncomingMessage)],
    ['syntheticView', syntheticView(r)],
    ['plain view', view({ ...r, path: q === -1 ? r.path : r.path.slice(0, q), query: Object.fromEntries(new URLSearchParams(q === -1 ? '' : r.path.slice(q + 1))) })]
  ]
}

t.test('explain and decide agree on every case and every request view', async t => {
  for (const c of cases) {
    for (const [impl, v] of views(c.req)) {
      const e = explain(table, v)
      const d = decide(table, v, fixedEntropy(0.99))
      const at = `${c.desc} (${impl})`
      t.same([e.route, e.rule], [c.route, c.rule], `${at}: route and rule`)
      t.same([d?.route.name ?? null, d?.rule ?? null], [e.route, e.rule], `${at}: as decide() decides`)
      if (c.backend === null) {
        t.equal(e.backend, null, `${at}: left to chance`)
        const live = e.destination?.kind === 'split' ? Object.entries(e.destination.weights).filter(([, w]) => w > 0).map(([b]) => b) : []
        t.ok(d !== undefined && live.includes(d.backend.name), `${at}: decide() draws among the split's backends`)
      } else {
        t.equal(e.backend, c.backend === 'sticky' ? d?.backend.name : c.backend, `${at}: explained backend`)
        t.equal(d?.backend.name, e.backend, `${at}: the backend decide() picks`)
      }
    }
  }
})

t.test('for every sticky key, the top score explain() shows is the backend decide() picks', async t => {
  const web = (key: string): SyntheticRequest => ({ cookies: { sy_id: key } })
  holds(t, fc.property(fc.string({ minLength: 1, maxLength: 24 }), key => {
    const e = explain(table, syntheticView(web(key)))
    const d = decide(table, syntheticView(web(key)), fixedEntropy())
    const scores = Object.entries(e.sticky?.scores ?? {})
    const top = scores.reduce((best, s) => s[1] > best[1] ? s : best)[0]
    return e.backend === d?.backend.name && top === e.backend
  }), { numRuns: 2000 })
})

t.test('split percentages: one computation for status, explain and the diff', async t => {
  const e = explain(table, syntheticView({ path: '/?variant=b', headers: { 'user-agent': 'iPhone' } }))
  t.same(e.destination, { kind: 'split', weights: { stable: 50, canary: 50 }, percent: { stable: 50, canary: 50 } })
  const thirds = tableOf({ backends: { a: { targets: ['http://10.0.0.1:80'] }, b: { targets: ['http://10.0.0.2:80'] }, c: { targets: ['http://10.0.0.3:80'] } }, routes: [{ name: 'r', split: { a: 1, b: 1, c: 1 } }] })
  t.same(explain(thirds, syntheticView({})).destination, { kind: 'split', weights: { a: 1, b: 1, c: 1 }, percent: { a: 33.333, b: 33.333, c: 33.333 } })
})
