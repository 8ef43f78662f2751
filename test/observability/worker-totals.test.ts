/**
 * WorkerTotals, the counters of several workers added up so that the total
 * never goes back: each worker adds what it counted since its previous
 * reading (all of it when new, or when its counter went down), and a
 * series keeps its total when no worker has it any more; a worker
 * left out of readings keeps its previous reading until it has missed
 * FORGET_AFTER_READINGS in a row.
 */
import t from 'tap'
import { Counter, Registry } from 'prom-client'
import { FORGET_AFTER_READINGS, WorkerTotals } from '../../src/observability/worker-totals.js'

/** One worker's reading of counters with one series per backend, as prom-client's JSON. */
async function reading (worker: number, byBackend: Record<string, number>, name = 'switchyard_requests_total') {
  const registry = new Registry()
  const c = new Counter({ name, help: 'h', labelNames: ['route', 'backend'], registers: [registry] })
  for (const [backend, n] of Object.entries(byBackend)) c.inc({ route: 'web', backend }, n)
  return { worker, metrics: await registry.getMetricsAsJSON() }
}

const totals = (json: ReturnType<WorkerTotals['add']>): Record<string, number> =>
  Object.fromEntries(json.flatMap(m => m.values.map(v => [String(v.labels.backend), v.value])))

t.test('each worker adds its increase; a new worker or a counter that went down adds its whole reading', async t => {
  const w = new WorkerTotals(['switchyard_requests_total'])
  t.same(totals(w.add([await reading(1, { stable: 10 }), await reading(2, { stable: 20, canary: 4 })])), { stable: 30, canary: 4 })
  t.same(totals(w.add([await reading(3, { stable: 5 }), await reading(2, { stable: 21, canary: 4 })])), { stable: 36, canary: 4 }, 'worker 1 replaced by 3: its 5 and 2\'s one more')
  t.same(totals(w.add([await reading(3, { stable: 2 }), await reading(2, { stable: 21 })])), { stable: 38, canary: 4 }, 'a counter that went down started again: its 2 count; a series in no reading keeps its total')
  const other = w.add([await reading(2, { stable: 9 }, 'other_total')])
  t.same([other.map(m => m.name), totals(other)], [['switchyard_requests_total'], { stable: 38, canary: 4 }], 'metrics not named are left out')
})

t.test('a worker left out keeps its previous reading until it has missed FORGET_AFTER_READINGS in a row', async t => {
  const w = new WorkerTotals(['switchyard_requests_total'])
  const two = await reading(2, { stable: 10 })
  w.add([await reading(1, { stable: 10 }), two])
  for (let i = 1; i < FORGET_AFTER_READINGS; i++) w.add([two])
  t.same(totals(w.add([await reading(1, { stable: 13 }), two])), { stable: 23 }, 'back after missing one less: only its 3 new')
  for (let i = 0; i < FORGET_AFTER_READINGS; i++) w.add([two])
  t.same(totals(w.add([await reading(1, { stable: 14 }), two])), { stable: 37 }, 'forgotten: its whole reading counts again')
})
