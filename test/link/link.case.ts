/**
 * The plane link's contract, one suite for every implementation (run by
 * in-process.test.ts and ipc.test.ts): the data planes serve what `apply`
 * sent once it resolves, report listening and target health, answer
 * readiness and targets, refuse a taken port at start, and stop.
 */
import type { Test } from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { request } from 'undici'
import { stringify } from 'yaml'
import { deadPort, startBackends } from '../helpers/backends.js'
import { buildFromText } from '../../src/routing/build.js'
import type { ConfigUpdate, HealthEvent, PlaneLink } from '../../src/link/link.js'

/** A link to data planes that start with `first` (the in-process one needs its settings up front). */
export type MakeLink = (first: ConfigUpdate) => PlaneLink

export function update (revision: number, config: Record<string, unknown>): ConfigUpdate {
  const text = stringify({ listen: { host: '127.0.0.1', port: 0 }, shutdown: { drainDelay: '0s' }, ...config })
  const built = buildFromText(text)
  if (!built.ok) throw new Error(built.problems.map(p => p.message).join('; '))
  return { revision, text, table: built.table }
}

const timers = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length

/** The backend that answers a request on a new connection (so that every worker gets its turn). */
async function backendAt (url: string): Promise<string> {
  const res = await request(url + '/', { headers: { connection: 'close' } })
  await res.body.dump()
  return String(res.headers['x-backend'])
}

export function linkSuite (t: Test, make: MakeLink): void {
  t.test('serves each revision once apply resolves; reports listening; stops', async t => {
    const { a, b } = await startBackends(t, 'a', 'b')
    const backends = { a: { targets: [a.url] }, b: { targets: [b.url] } }
    const first = update(1, { backends, routes: [{ name: 'r', to: 'a' }] })
    const link = make(first)
    const listening: string[] = []
    link.on('listening', url => listening.push(url))
    t.same(link.readiness().ready, false, 'not ready before start')
    await link.apply(first)
    const url = await link.start()
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    t.ok(listening.length >= 1 && listening.every(u => u === url), 'every data plane reported the one shared address')
    t.same(link.readiness(), { ready: true, reason: '' })
    const before: string[] = []
    for (let i = 0; i < 6; i++) before.push(await backendAt(url))
    t.same([...new Set(before)], ['a'])

    await link.apply(update(2, { backends, routes: [{ name: 'r', to: 'b' }] }))
    const after: string[] = []
    for (let i = 0; i < 6; i++) after.push(await backendAt(url))
    t.same([...new Set(after)], ['b'], 'every data plane serves revision 2 as soon as apply resolved')

    await link.stop(false)
    t.equal(link.readiness().ready, false, 'not ready once stopped')
    await t.rejects(request(url + '/'), { code: 'ECONNREFUSED' }, 'the proxy port is closed')
  })

  t.test('targets and health events', async t => {
    const { a } = await startBackends(t, 'a')
    const dead = `http://127.0.0.1:${await deadPort()}`
    const first = update(1, {
      backends: { a: { targets: [a.url, dead], healthCheck: { path: '/', interval: '50ms', unhealthyThreshold: 1 } } },
      routes: [{ name: 'r', to: 'a' }]
    })
    const link = make(first)
    t.teardown(() => link.stop(false))
    const down = new Promise<HealthEvent>(resolve => link.on('health', e => { if (!e.available) resolve(e) }))
    await link.apply(first)
    await link.start()
    const event = await down
    t.same([event.target, event.available, event.health], [dead, false, 'unhealthy'])
    t.match(event.reason, /health check failed/)
    const targets = await link.targets()
    t.same(targets.map(x => [x.backend, x.url, x.health]).sort(), [['a', a.url, 'healthy'], ['a', dead, 'unhealthy']].sort())
    t.ok(targets.every(x => x.inFlight === 0), 'nothing in flight')
  })

  t.test('a taken proxy port fails start at once, and nothing is left to keep the process alive', async t => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', () => resolve()))
    t.teardown(() => blocker.close())
    const port = (blocker.address() as AddressInfo).port
    const first = update(1, { listen: { host: '127.0.0.1', port }, backends: { a: { targets: ['http://127.0.0.1:9'] } }, routes: [{ name: 'r', to: 'a' }] })
    const timersBefore = timers()
    const link = make(first)
    await link.apply(first)
    await t.rejects(link.start(), /EADDRINUSE/)
    await link.stop(false)
    t.equal(link.readiness().ready, false)
    // `serve` exits when nothing is left to do: a forgotten timer (the shutdown timeout) kept it alive for 25 s.
    t.equal(timers(), timersBefore, 'no timer left behind')
  })
}
