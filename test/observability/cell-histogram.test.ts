/**
 * CellHistogram subclasses prom-client's Histogram and overrides get() and
 * getForPromString(), the second of which prom-client's typings do not
 * declare. This pins the prom-client behaviour that relies on: the text
 * exposition reads getForPromString(), the JSON and the cluster aggregation
 * read get(), and both format our values as a histogram. A prom-client
 * upgrade that changes any of it fails here, not in production scrapes.
 */
import t from 'tap'
import { AggregatorRegistry, Registry } from 'prom-client'
import { CellHistogram } from '../../src/observability/cell-histogram.js'
import { SeriesCell } from '../../src/observability/series-cell.js'
import { parseExposition } from '../helpers/exposition-parser.js'

function registryWith (cells: SeriesCell[], live: Set<SeriesCell>): Registry {
  const registry = new Registry()
  new CellHistogram('test_duration_seconds', 'help text', registry, { cells: () => cells, isLive: c => live.has(c) })
  return registry
}

t.test('the text exposition reads the cells (getForPromString)', async t => {
  const cell = new SeriesCell('web', 'canary', '0.6')
  cell.observe(0.003)
  cell.observe(0.003)
  cell.observe(20)
  const idle = new SeriesCell('web', 'stable', '0.5')
  const gone = new SeriesCell('old', 'stable', '0.4')
  const registry = registryWith([cell, idle, gone], new Set([cell, idle]))
  const text = await registry.metrics()
  t.match(text, /^# HELP test_duration_seconds help text\n# TYPE test_duration_seconds histogram\n/)
  const samples = parseExposition(text)
  const of = (backend: string, name: string, le?: string): number | undefined =>
    samples.find(s => s.name === name && s.labels.backend === backend && s.labels.le === le)?.value
  t.equal(of('canary', 'test_duration_seconds_bucket', '0.001'), 0)
  t.equal(of('canary', 'test_duration_seconds_bucket', '0.005'), 2, 'cumulative buckets')
  t.equal(of('canary', 'test_duration_seconds_bucket', '10'), 2)
  t.equal(of('canary', 'test_duration_seconds_bucket', '+Inf'), 3)
  t.equal(of('canary', 'test_duration_seconds_count'), 3)
  t.equal(of('canary', 'test_duration_seconds_sum'), 20.006)
  t.equal(of('stable', 'test_duration_seconds_count'), 0, 'a live cell without observations is a zero series')
  t.notOk(samples.some(s => s.labels.route === 'old'), 'a dropped, empty cell is not exported')
})

t.test('the JSON (get) and the cluster aggregation read the cells too', async t => {
  const a = new SeriesCell('web', 'canary', '0.6')
  a.observe(0.003)
  const b = new SeriesCell('web', 'canary', '0.6')
  b.observe(0.003)
  b.observe(0.3)
  const json = await registryWith([a], new Set([a])).getMetricsAsJSON()
  t.same(json.map(m => [m.name, m.type as unknown, m.aggregator]), [['test_duration_seconds', 'histogram', 'sum']])
  t.equal(json[0]?.values.find(v => v.labels.le === '+Inf')?.value, 1)
  const sum = AggregatorRegistry.aggregate([json, await registryWith([b], new Set([b])).getMetricsAsJSON()])
  const samples = parseExposition(await sum.metrics())
  t.equal(samples.find(s => s.name === 'test_duration_seconds_count')?.value, 3, 'workers add up')
  t.equal(samples.find(s => s.name === 'test_duration_seconds_bucket' && s.labels.le === '0.005')?.value, 2)
})
