/** The leadership the control plane's fleet-wide jobs run under, and the fleet counters a leader reads. */
import t from 'tap'
import { pino } from 'pino'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fleetLeadership, soloLeadership } from '../../src/control/leadership.js'
import { FleetCounters, sumMetrics } from '../../src/control/fleet-counters.js'
import type { LeaderHandlers, RoutingStore } from '../../src/fleet/store.js'
import type { MetricsJson } from '../../src/link/link.js'
import { advertisedAdminUrl } from '../../src/app/fleet.js'

const silent = pino({ level: 'silent' })

t.test('a single instance always leads: a job runs at once, and is aborted at close', async t => {
  const l = soloLeadership('solo', silent)
  t.same([l.isLeader, l.leader, l.identity], [true, 'solo', 'solo'])
  let signal: AbortSignal | undefined
  l.onLeading(s => { signal = s })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(signal?.aborted, false, 'the job runs while leading')
  await l.close()
  t.equal(signal?.aborted, true, 'closing aborts it')
})

t.test("a fleet's election: jobs start with leading, abort when deposed, start again when re-elected", async t => {
  let handlers: LeaderHandlers | undefined
  let stopped = false
  const store = { campaign: (_id: string, h: LeaderHandlers) => { handlers = h; return { leading: false, stop: async () => { stopped = true } } } } as unknown as RoutingStore
  const l = fleetLeadership(store, 'b', silent)
  const runs: AbortSignal[] = []
  const remove = l.onLeading(s => { runs.push(s) })
  await new Promise(resolve => setImmediate(resolve))
  t.same([l.isLeader, runs.length], [false, 0], 'no job before leading')
  handlers?.leader?.('a')
  t.equal(l.leader, 'a', 'who leads is known')
  handlers?.started()
  await new Promise(resolve => setImmediate(resolve))
  t.same([l.isLeader, runs.length, runs[0]?.aborted], [true, 1, false], 'leading: the job runs')
  handlers?.stopped()
  t.same([l.isLeader, runs[0]?.aborted], [false, true], 'deposed: its signal aborts')
  handlers?.started()
  await new Promise(resolve => setImmediate(resolve))
  t.same([runs.length, runs[1]?.aborted], [2, false], 're-elected: it runs again')
  remove()
  t.equal(runs[1]?.aborted, true, 'removing a job aborts its run')
  let failed = false
  l.onLeading(() => { failed = true; throw new Error('boom') })
  await new Promise(resolve => setImmediate(resolve))
  t.ok(failed && l.isLeader, 'a failing job is logged, leadership goes on')
  await l.close()
  t.ok(stopped, 'close() stops campaigning')
})

const reading = (requests: number, le: number): MetricsJson => [
  { name: 'switchyard_requests_total', help: '', type: 'counter', aggregator: 'sum', values: [{ labels: { route: 'web', backend: 'canary', code: '200' }, value: requests }] },
  { name: 'switchyard_request_duration_seconds', help: '', type: 'histogram', aggregator: 'sum', values: [{ labels: { route: 'web', backend: 'canary', le: 0.1 }, value: le, metricName: 'switchyard_request_duration_seconds_bucket' }, { labels: { route: 'web', backend: 'canary' }, value: le, metricName: 'switchyard_request_duration_seconds_count' }] }
] as unknown as MetricsJson

t.test('the fleet counters sum every member series by series, and name the members that did not answer', async t => {
  t.same(sumMetrics([reading(3, 2), reading(4, 5)]), reading(7, 7), 'counters and histogram series add up')
  const served = [reading(10, 1), reading(20, 2)]
  const servers = await Promise.all(served.map(async body => {
    const s = createServer((req, res) => {
      t.equal(req.headers.authorization, 'Bearer tok', 'the shared admin token is sent')
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(req.url === '/admin/metrics' ? body : {}))
    })
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { s.close() })
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
  }))
  const members = [...servers, 'http://127.0.0.1:1'].map((adminUrl, i) => ({ id: `m${i}`, adminUrl, appliedRevision: 1, syncedAt: '' }))
  const r = await new FleetCounters({ members: async () => members, token: 'tok', timeoutMs: 2000 }).read()
  t.same(r.members.map(m => m.id), ['m0', 'm1'])
  t.same(r.members.map(m => m.metrics), served, 'each member\'s own reading is kept beside the sum')
  t.same(r.missing.map(m => m.id), ['m2'], 'an unreachable member is missing, not zero traffic')
  t.same(r.metrics, reading(30, 3))
})

t.test('the admin URL a replica advertises to its fleet', async t => {
  t.equal(advertisedAdminUrl('http://0.0.0.0:9901', {}), 'http://0.0.0.0:9901')
  t.equal(advertisedAdminUrl('http://0.0.0.0:9901', { POD_IP: '10.1.2.3' }), 'http://10.1.2.3:9901')
  t.equal(advertisedAdminUrl('http://0.0.0.0:9901', { POD_IP: 'fd00::7' }), 'http://[fd00::7]:9901')
  t.equal(advertisedAdminUrl('http://0.0.0.0:9901', { POD_IP: '10.1.2.3', SWITCHYARD_ADVERTISE_ADMIN_URL: 'https://a.example' }), 'https://a.example')
})
