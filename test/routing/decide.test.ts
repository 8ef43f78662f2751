/**
 * decide() without sockets: every condition type and operator, rule order,
 * route matching, destinations and stickiness.
 */
import t from 'tap'
import fc from 'fast-check'
import { decide } from '../../src/routing/decide.js'
import { compilePathMatch, compileStringMatch } from '../../src/routing/matchers.js'
import { holds } from '../helpers/property.js'
import { fixedEntropy, tableOf, twoBackends, view, type ViewInit } from '../helpers/tables.js'

/** One route whose only rule holds `when`; otherwise everything goes to stable. */
function ruleTable (when: unknown) {
  return tableOf({
    backends: twoBackends,
    routes: [{ name: 'r', rules: [{ name: 'cond', when, to: 'canary' }], to: 'stable' }]
  })
}

interface Case { desc: string, when: unknown, req: ViewInit, expected: 'canary' | 'stable' }

const conditionCases: Case[] = [
  // headers: names are case-insensitive in config and request
  { desc: 'header exact matches', when: { headers: { 'X-Canary': { exact: 'always' } } }, req: { headers: { 'x-canary': 'always' } }, expected: 'canary' },
  { desc: 'header exact is case-sensitive on the value', when: { headers: { 'x-canary': { exact: 'always' } } }, req: { headers: { 'X-CANARY': 'Always' } }, expected: 'stable' },
  { desc: 'header exact, absent header', when: { headers: { 'x-canary': { exact: 'always' } } }, req: {}, expected: 'stable' },
  { desc: 'header prefix', when: { headers: { 'x-user': { prefix: 'beta-' } } }, req: { headers: { 'x-user': 'beta-42' } }, expected: 'canary' },
  { desc: 'header prefix, no match', when: { headers: { 'x-user': { prefix: 'beta-' } } }, req: { headers: { 'x-user': 'alpha-42' } }, expected: 'stable' },
  { desc: 'header suffix', when: { headers: { 'x-user': { suffix: '@corp.example' } } }, req: { headers: { 'x-user': 'ann@corp.example' } }, expected: 'canary' },
  { desc: 'header regex searches', when: { headers: { 'x-user': { regex: '[0-9]{3}' } } }, req: { headers: { 'x-user': 'id-123-x' } }, expected: 'canary' },
  { desc: 'header regex anchored', when: { headers: { 'x-user': { regex: '^[0-9]{3}$' } } }, req: { headers: { 'x-user': 'id-123-x' } }, expected: 'stable' },
  { desc: 'header in list', when: { headers: { 'x-tenant': { in: ['acme', 'globex'] } } }, req: { headers: { 'x-tenant': 'globex' } }, expected: 'canary' },
  { desc: 'header in list, no match', when: { headers: { 'x-tenant': { in: ['acme', 'globex'] } } }, req: { headers: { 'x-tenant': 'initech' } }, expected: 'stable' },
  { desc: 'header present: true', when: { headers: { 'x-debug': { present: true } } }, req: { headers: { 'x-debug': '' } }, expected: 'canary' },
  { desc: 'header present: true, absent', when: { headers: { 'x-debug': { present: true } } }, req: {}, expected: 'stable' },
  { desc: 'header present: false, absent', when: { headers: { 'x-debug': { present: false } } }, req: {}, expected: 'canary' },
  { desc: 'header present: false, present', when: { headers: { 'x-debug': { present: false } } }, req: { headers: { 'x-debug': '1' } }, expected: 'stable' },
  // cookies: arbitrary values
  { desc: 'cookie exact', when: { cookies: { canary: { exact: 'never' } } }, req: { cookies: { canary: 'never' } }, expected: 'canary' },
  { desc: 'cookie exact, arbitrary value', when: { cookies: { group: { exact: 'b=2;x' } } }, req: { cookies: { group: 'b=2;x' } }, expected: 'canary' },
  { desc: 'cookie prefix', when: { cookies: { plan: { prefix: 'pro' } } }, req: { cookies: { plan: 'professional' } }, expected: 'canary' },
  { desc: 'cookie regex', when: { cookies: { plan: { regex: '^(gold|silver)$' } } }, req: { cookies: { plan: 'silver' } }, expected: 'canary' },
  { desc: 'cookie in', when: { cookies: { plan: { in: ['a', 'b'] } } }, req: { cookies: { plan: 'c' } }, expected: 'stable' },
  { desc: 'cookie present', when: { cookies: { session: { present: true } } }, req: { cookies: { session: 'x' } }, expected: 'canary' },
  { desc: 'cookie absent', when: { cookies: { session: { present: false } } }, req: { cookies: {} }, expected: 'canary' },
  // user agent
  { desc: 'userAgent regex', when: { userAgent: { regex: 'Android|iPhone' } }, req: { headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)' } }, expected: 'canary' },
  { desc: 'userAgent regex, desktop', when: { userAgent: { regex: 'Android|iPhone' } }, req: { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } }, expected: 'stable' },
  { desc: 'userAgent exact', when: { userAgent: { exact: 'curl/8.0' } }, req: { headers: { 'user-agent': 'curl/8.0' } }, expected: 'canary' },
  // query parameters
  { desc: 'query exact', when: { query: { variant: { exact: 'b' } } }, req: { query: { variant: 'b' } }, expected: 'canary' },
  { desc: 'query present false', when: { query: { variant: { present: false } } }, req: { query: { variant: 'b' } }, expected: 'stable' },
  // all conditions of a rule must hold
  { desc: 'all conditions hold', when: { headers: { 'x-a': { exact: '1' } }, cookies: { b: { exact: '2' } }, query: { c: { exact: '3' } } }, req: { headers: { 'x-a': '1' }, cookies: { b: '2' }, query: { c: '3' } }, expected: 'canary' },
  { desc: 'one condition fails', when: { headers: { 'x-a': { exact: '1' } }, cookies: { b: { exact: '2' } }, query: { c: { exact: '3' } } }, req: { headers: { 'x-a': '1' }, cookies: { b: '2' }, query: { c: '4' } }, expected: 'stable' },
  { desc: 'two headers, both hold', when: { headers: { 'x-a': { exact: '1' }, 'x-b': { present: true } } }, req: { headers: { 'x-a': '1', 'x-b': '' } }, expected: 'canary' },
  { desc: 'empty when matches everything', when: {}, req: {}, expected: 'canary' }
]

t.test('conditions', async t => {
  for (const c of conditionCases) {
    const d = decide(ruleTable(c.when), view(c.req), fixedEntropy())
    t.equal(d?.backend.name, c.expected, c.desc)
    t.equal(d?.rule, c.expected === 'canary' ? 'cond' : 'split', `${c.desc}: rule name`)
  }
})

t.test('rules are ordered: the first whose conditions all hold wins', async t => {
  const table = tableOf({
    backends: { ...twoBackends, green: { targets: ['http://127.0.0.1:9005'] } },
    routes: [{
      name: 'r',
      rules: [
        { name: 'first', when: { headers: { 'x-a': { present: true } } }, to: 'canary' },
        { name: 'second', when: { headers: { 'x-a': { present: true }, 'x-b': { present: true } } }, to: 'green' },
        { name: 'third', when: { headers: { 'x-b': { present: true } } }, to: 'green' }
      ],
      to: 'stable'
    }]
  })
  const e = fixedEntropy()
  t.same(pick(decide(table, view({ headers: { 'x-a': '1', 'x-b': '1' } }), e)), ['first', 'canary'])
  t.same(pick(decide(table, view({ headers: { 'x-b': '1' } }), e)), ['third', 'green'])
  t.same(pick(decide(table, view({}), e)), ['split', 'stable'])
})

function pick (d: ReturnType<typeof decide>): [string, string] | undefined {
  return d === undefined ? undefined : [d.rule, d.backend.name]
}

t.test('route matching: host, path, methods; first match wins; no match is undefined', async t => {
  const table = tableOf({
    backends: twoBackends,
    routes: [
      { name: 'api-exact-host', match: { host: 'api.example.com', path: { prefix: '/v2/' } }, to: 'canary' },
      { name: 'wildcard', match: { host: '*.example.org' }, to: 'canary' },
      { name: 'exact-path', match: { path: { exact: '/login' }, methods: ['POST'] }, to: 'canary' },
      { name: 'regex-path', match: { path: { regex: '^/items/[0-9]+$' } }, to: 'stable' },
      { name: 'hosts-list', match: { host: ['a.test', 'b.test'] }, to: 'stable' }
    ]
  })
  const e = fixedEntropy()
  const route = (init: ViewInit): string | undefined => decide(table, view(init), e)?.route.name
  t.equal(route({ host: 'api.example.com', path: '/v2/users' }), 'api-exact-host')
  t.equal(route({ host: 'api.example.com', path: '/v1/users' }), undefined, 'prefix must match too')
  t.equal(route({ host: 'www.example.com', path: '/v2/users' }), undefined, 'exact host only')
  t.equal(route({ host: 'shop.example.org' }), 'wildcard')
  t.equal(route({ host: 'a.b.example.org' }), 'wildcard', 'wildcard matches deeper names')
  t.equal(route({ host: 'example.org' }), undefined, 'wildcard does not match the bare domain')
  t.equal(route({ path: '/login', method: 'POST' }), 'exact-path')
  t.equal(route({ path: '/login', method: 'GET' }), undefined, 'method must match')
  t.equal(route({ path: '/login/', method: 'POST' }), undefined, 'exact is exact')
  t.equal(route({ path: '/items/42' }), 'regex-path')
  t.equal(route({ path: '/items/42/x' }), undefined)
  t.equal(route({ host: 'b.test', path: '/anything' }), 'hosts-list')
})

t.test('host patterns are case-insensitive', async t => {
  const table = tableOf({ backends: twoBackends, routes: [{ name: 'r', match: { host: 'API.Example.com' }, to: 'canary' }] })
  t.equal(decide(table, view({ host: 'api.example.com' }), fixedEntropy())?.route.name, 'r')
})

t.test('split without stickiness draws with the injected random value', async t => {
  const table = tableOf({ backends: twoBackends, routes: [{ name: 'r', split: { stable: 90, canary: 10 } }] })
  t.equal(decide(table, view(), fixedEntropy(0))?.backend.name, 'stable')
  t.equal(decide(table, view(), fixedEntropy(0.8999))?.backend.name, 'stable')
  t.equal(decide(table, view(), fixedEntropy(0.9))?.backend.name, 'canary')
  t.equal(decide(table, view(), fixedEntropy(0.99999))?.backend.name, 'canary')
})

t.test('weight 0 gets nothing, with any random value', async t => {
  const table = tableOf({ backends: twoBackends, routes: [{ name: 'r', split: { stable: 0, canary: 1 } }] })
  for (const r of [0, 0.1, 0.5, 0.999999]) t.equal(decide(table, view(), fixedEntropy(r))?.backend.name, 'canary')
})

t.test('cookie stickiness: new users get an id, known users keep their backend', async t => {
  const table = tableOf({
    backends: twoBackends,
    routes: [{ name: 'r', split: { stable: 50, canary: 50 }, sticky: { cookie: 'sy_id' } }]
  })
  const e = fixedEntropy()
  const first = decide(table, view(), e)
  t.equal(first?.setStickyId, 'id-1', 'a user without the cookie is given an id')
  const again = decide(table, view({ cookies: { sy_id: 'id-1' } }), e)
  t.equal(again?.setStickyId, undefined, 'no new id when the cookie is sent')
  t.equal(again?.backend.name, first?.backend.name, 'same backend for the same id')
  t.equal(e.ids, 1)
})

t.test('header stickiness: keyed by the header; without it, a random draw and no cookie', async t => {
  const table = tableOf({
    backends: twoBackends,
    routes: [{ name: 'r', split: { stable: 50, canary: 50 }, sticky: { header: 'X-User-Id' } }]
  })
  const seen = new Set<string>()
  for (const r of [0.1, 0.9]) {
    const d = decide(table, view({ headers: { 'x-user-id': 'alice' } }), fixedEntropy(r))
    seen.add(d?.backend.name ?? '')
    t.equal(d?.setStickyId, undefined)
  }
  t.equal(seen.size, 1, 'the random value does not matter when the key is present')
  t.equal(decide(table, view(), fixedEntropy(0.1))?.backend.name, 'stable')
  t.equal(decide(table, view(), fixedEntropy(0.9))?.backend.name, 'canary')
  t.equal(decide(table, view(), fixedEntropy(0.9))?.setStickyId, undefined)
})

t.test('a rule with `to` under a sticky route sets no cookie', async t => {
  const table = tableOf({
    backends: twoBackends,
    routes: [{ name: 'r', rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }], split: { stable: 1, canary: 1 }, sticky: { cookie: 'sy_id' } }]
  })
  const d = decide(table, view({ headers: { 'x-canary': 'always' } }), fixedEntropy())
  t.equal(d?.backend.name, 'canary')
  t.equal(d?.setStickyId, undefined)
})

t.test('the issue example: every rule and the default', async t => {
  const table = tableOf({
    backends: { stable: { version: '0.5', targets: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'] }, canary: { version: '0.6', targets: ['http://127.0.0.1:9003'] } },
    routes: [{
      name: 'testpage',
      match: { path: { prefix: '/' } },
      rules: [
        { name: 'beta-header', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' },
        { name: 'opt-out', when: { cookies: { canary: { exact: 'never' } } }, to: 'stable' },
        { name: 'mobile', when: { userAgent: { regex: 'Android|iPhone' } }, split: { stable: 50, canary: 50 } }
      ],
      split: { stable: 90, canary: 10 },
      sticky: { cookie: 'sy_id' }
    }]
  })
  const e = fixedEntropy()
  t.same(pick(decide(table, view({ headers: { 'x-canary': 'always' }, cookies: { canary: 'never' } }), e)), ['beta-header', 'canary'])
  t.same(pick(decide(table, view({ cookies: { canary: 'never' }, headers: { 'user-agent': 'Android' } }), e)), ['opt-out', 'stable'])
  t.equal(decide(table, view({ headers: { 'user-agent': 'Android 14' } }), e)?.rule, 'mobile')
  t.equal(decide(table, view({ headers: { 'user-agent': 'curl/8' } }), e)?.rule, 'split')
})

t.test('a rule of four or five conditions holds exactly when all of them do', async t => {
  const names = ['a', 'b', 'c', 'd', 'e']
  holds(t, fc.property(fc.integer({ min: 4, max: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (n, present) => {
    const used = names.slice(0, n)
    const table = ruleTable({ headers: Object.fromEntries(used.map(h => [`x-${h}`, { present: true }])) })
    const headers = Object.fromEntries(names.filter((_, i) => present[i]).map(h => [`x-${h}`, '1']))
    const expected = used.every((_, i) => present[i]) ? 'canary' : 'stable'
    return decide(table, view({ headers }), fixedEntropy())?.backend.name === expected
  }), { numRuns: 200 })
})

t.test('matchers refuse a condition without an operator (the schema never lets one through)', async t => {
  t.throws(() => compileStringMatch({}), RangeError)
  t.throws(() => compilePathMatch({}), RangeError)
})
