/**
 * The console's pure parts, without a browser: number formats, the request
 * fields of the explain form, the hash router, the weight edit the diff
 * preview sends, the line diff of two revisions, and merging polled samples.
 */
import t from 'tap'
import fc from 'fast-check'
import { holds } from '../helpers/property.js'
import { describeMatch, fmtAgo, fmtCount, fmtPercent, fmtRate, fmtSeconds, fmtShare, latest, parseCookieLines, parseHeaderLines, percentOf } from '../../ui/src/format.js'
import { href, parseHash } from '../../ui/src/router.js'
import { defaultWeights, withRouteWeights } from '../../ui/src/config-edit.js'
import { diffRows, type Row } from '../../ui/src/line-diff.js'
import { emptyStore, mergeSeries } from '../../ui/src/series-store.js'
import type { Points, TimeseriesReply } from '../../ui/src/types.js'

t.test('formats', async t => {
  const cases: Array<[string, string, string]> = [
    [fmtPercent(12.5), '12.5 %', 'percent'],
    [fmtPercent(100), '100 %', 'whole percent'],
    [fmtPercent(0.125), '0.13 %', 'small percent keeps two decimals'],
    [fmtPercent(null), '–', 'no value'],
    [fmtShare(0.0123), '1.2 %', 'share'],
    [fmtShare(0.0012), '0.12 %', 'small share'],
    [fmtShare(0), '0 %', 'zero share'],
    [fmtShare(NaN), '–', 'NaN share'],
    [fmtRate(0), '0/s', 'no requests'],
    [fmtRate(0.05), '0.05/s', 'slow'],
    [fmtRate(4.26), '4.3/s', 'a few'],
    [fmtRate(123.4), '123/s', 'hundreds'],
    [fmtRate(12345), '12.3k/s', 'thousands'],
    [fmtSeconds(0.00085), '850 µs', 'microseconds'],
    [fmtSeconds(0.0032), '3.2 ms', 'milliseconds'],
    [fmtSeconds(0.12), '120 ms', 'tens of milliseconds'],
    [fmtSeconds(1.254), '1.25 s', 'seconds'],
    [fmtSeconds(null), '–', 'no latency'],
    [fmtSeconds(0), '0', 'zero (an axis)'],
    [fmtCount(1234567), '1\u202f234\u202f567', 'thousands separated'],
    [fmtCount(42), '42', 'small count'],
    [fmtAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:03Z')), 'just now', 'just now'],
    [fmtAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:42Z')), '42 s ago', 'seconds ago'],
    [fmtAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:05:10Z')), '5 min ago', 'minutes ago'],
    [fmtAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T03:00:00Z')), '3 h ago', 'hours ago'],
    [fmtAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-03T01:00:00Z')), '2 d ago', 'days ago'],
    [describeMatch({}), 'every request', 'no match'],
    [describeMatch({ host: 'shop.example.com', path: { prefix: '/api' }, methods: ['GET', 'POST'] }), 'host shop.example.com, path prefix /api, methods GET POST', 'match']
  ]
  for (const [got, want, desc] of cases) t.equal(got, want, desc)
  t.equal(latest([1, 2, null, NaN]), 2, 'latest skips nulls and NaN')
  t.equal(latest([null]), null)
  t.same(percentOf({ stable: 2, canary: 1 }), { stable: 66.667, canary: 33.333 })
  t.same(percentOf({ a: 0 }), { a: 0 })
})

t.test('the explain form\'s headers and cookies', async t => {
  t.same(parseHeaderLines('X-Canary: always\n\n  x-user-id:42  \nbroken'), { headers: { 'x-canary': 'always', 'x-user-id': '42' }, bad: ['broken'] })
  t.same(parseHeaderLines('x-a: b: c'), { headers: { 'x-a': 'b: c' }, bad: [] }, 'a value may hold a colon')
  t.same(parseCookieLines('sy_id=alice; canary=never\ntheme=dark\n=x'), { cookies: { sy_id: 'alice', canary: 'never', theme: 'dark' }, bad: ['=x'] })
})

t.test('the hash router: href and parseHash agree for every page, route name and query', async t => {
  t.same(parseHash(''), { page: 'overview', arg: null, query: new URLSearchParams() })
  t.equal(parseHash('#/history').page, 'history')
  const loc = parseHash('#/change/web?undo=3')
  t.same([loc.page, loc.arg, loc.query.get('undo')], ['change', 'web', '3'])
  holds(t, fc.property(fc.constantFrom('overview', 'route', 'change', 'history'), fc.option(fc.string({ minLength: 1 }), { nil: null }), fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (page, arg, query) => {
    const parsed = parseHash(href(page, arg, query))
    return parsed.page === page && parsed.arg === arg && JSON.stringify(Object.fromEntries(parsed.query)) === JSON.stringify(Object.fromEntries(new URLSearchParams(query)))
  }))
})

t.test('the weight edit behind the preview replaces one route\'s default destination only', async t => {
  const config = { listen: { port: 8080 }, routes: [{ name: 'a', to: 'stable', rules: [{ name: 'r', to: 'canary' }] }, { name: 'b', split: { stable: 90, canary: 10 } }] }
  const frozen = JSON.stringify(config)
  t.same(withRouteWeights(config, 'a', { stable: 50, canary: 50 }), {
    listen: { port: 8080 },
    routes: [{ name: 'a', rules: [{ name: 'r', to: 'canary' }], split: { stable: 50, canary: 50 } }, { name: 'b', split: { stable: 90, canary: 10 } }]
  })
  t.equal(JSON.stringify(config), frozen, 'the running config is not changed')
  t.throws(() => withRouteWeights(config, 'nope', { x: 1 }), /no route named nope/)
  t.same(defaultWeights({ to: 'stable' }), { stable: 100 })
  t.same(defaultWeights({ weights: { a: 1, b: 2 } }), { a: 1, b: 2 })
  t.same(defaultWeights({}), {})
})

t.test('the line diff', async t => {
  const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n') + '\n'
  const after = ['a', 'b', 'c', 'd', 'e', 'F', 'g', 'h', 'i', 'j', 'k'].join('\n') + '\n'
  t.same(diffRows(before, after, 1), [
    { kind: 'fold', count: 4 },
    { kind: 'same', oldNo: 5, newNo: 5, text: 'e' },
    { kind: 'del', oldNo: 6, newNo: null, text: 'f' },
    { kind: 'add', oldNo: null, newNo: 6, text: 'F' },
    { kind: 'same', oldNo: 7, newNo: 7, text: 'g' },
    { kind: 'fold', count: 2 },
    { kind: 'same', oldNo: 10, newNo: 10, text: 'j' },
    { kind: 'add', oldNo: null, newNo: 11, text: 'k' }
  ])
  t.same(diffRows(before, before), [{ kind: 'fold', count: 10 }], 'equal texts: one fold')
  const line = fc.constantFrom('a', 'b', 'c', 'split: { stable: 90 }', '')
  holds(t, fc.property(fc.array(line, { maxLength: 20 }), fc.array(line, { maxLength: 20 }), (x, y) => {
    const text = (lines: string[]): string => lines.map(l => `${l}\n`).join('')
    const rows = diffRows(text(x), text(y), 100)
    const kept = rows.filter((r): r is Exclude<Row, { kind: 'fold' }> => r.kind !== 'fold')
    const olds = kept.filter(r => r.oldNo !== null).map(r => r.text)
    const news = kept.filter(r => r.newNo !== null).map(r => r.text)
    // With context wider than the texts nothing folds: the old and the new side replay each text exactly.
    return rows.every(r => r.kind !== 'fold') && JSON.stringify(olds) === JSON.stringify(x) && JSON.stringify(news) === JSON.stringify(y)
  }))
})

const cols = (t: number[], v: number): Points => ({ t, rate: t.map(() => v), errorShare: t.map(() => null), p50: t.map(() => v), p99: t.map(() => v), sticky: t.map(() => 0), requests: t.map(() => v) })
const reply = (sampledAt: number, series: Array<[string, number[]]>): TimeseriesReply => ({
  intervalSeconds: 5, windowSeconds: 20, sampledAt, series: series.map(([backend, t]) => ({ route: 'web', backend, version: '1', points: cols(t, 1) }))
})

t.test('polled samples are appended, the window trimmed, and series that left dropped', async t => {
  let store = mergeSeries(emptyStore, reply(10_000, [['stable', [5_000, 10_000]], ['canary', [10_000]]]))
  t.equal(store.since, 10_000)
  t.same([...store.series.values()].map(s => s.points.t), [[5_000, 10_000], [10_000]])
  store = mergeSeries(store, reply(30_000, [['stable', [15_000, 20_000, 25_000, 30_000]]]))
  t.same([...store.series.keys()], ['web\0stable\x001'], 'canary left the config')
  t.same(store.series.get('web\0stable\x001')?.points.t, [15_000, 20_000, 25_000, 30_000], 'older than 20 s dropped')
  t.same(store.series.get('web\0stable\x001')?.points.errorShare, [null, null, null, null])
  store = mergeSeries(store, reply(30_000, [['stable', []]]))
  t.equal(store.series.get('web\0stable\x001')?.points.t.length, 4, 'a poll with nothing new keeps what was there')
})
