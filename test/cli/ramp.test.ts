/**
 * `switchyard ramp`: the step judgement on its own, then whole ramps against
 * a running switchyard with real backends and live traffic — a healthy
 * canary ramped to 100 %, a failing one rolled back, and a ramp that meets
 * another operator's change and stops.
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import fc from 'fast-check'
import { InvalidArgumentError } from 'commander'
import { Counter, Histogram, Registry } from 'prom-client'
import { histogramQuantile, judgeStep, responsesOf, type Responses } from '../../src/commands/ramp.js'
import { stepsArg } from '../../src/commands/options.js'
import { DURATION_BUCKETS } from '../../src/observability/series-cell.js'
import { deadPort, startBackends } from '../helpers/backends.js'
import { runCli, startCli, startCliInProcess, type CliResult } from '../helpers/cli.js'
import { startWith, type Running } from '../helpers/switchyard.js'
import { admin, interposeWrites } from '../helpers/admin.js'

/** Responses with every duration in the first bucket (≤ 1 ms). */
const fast = (total: number, errors: number): Responses => ({ total, errors, failovers: 0, buckets: new Map([[0.001, total], [0.0025, total], [Infinity, total]]) })

t.test('judgeStep: fail as soon as enough answers are bad, pass only after the interval with enough answers', async t => {
  const gate = { maxErrorPercent: 5, maxP99Seconds: undefined, minRequests: 20 }
  const cases: Array<[string, Responses, boolean, string]> = [
    ['too few answers to judge, even all bad', fast(19, 19), false, 'wait'],
    ['enough answers, too many 5xx: fail before the interval ends', fast(20, 2), false, 'fail'],
    ['exactly the limit is fine', fast(100, 5), true, 'pass'],
    ['just above the limit fails', fast(100, 6), true, 'fail'],
    ['good so far, interval not over', fast(500, 0), false, 'wait'],
    ['interval over without traffic: keep waiting', fast(3, 0), true, 'wait']
  ]
  for (const [desc, delta, over, kind] of cases) t.equal(judgeStep(delta, over, gate).kind, kind, desc)
  t.same(judgeStep(fast(100, 6), true, gate).reasons, ['5xx 6 % > 5 %'])
  t.equal(judgeStep(fast(8, 2), true, gate).errorPercent, 25)
  const timed = { maxErrorPercent: undefined, maxP99Seconds: undefined, minRequests: 20 }
  t.equal(judgeStep(fast(0, 0), true, timed).kind, 'pass', 'no analysis: timed steps only')
  t.equal(judgeStep(fast(10, 10), false, timed).kind, 'wait')
})

t.test('judgeStep: the p99 limit', async t => {
  const gate = { maxErrorPercent: undefined, maxP99Seconds: 0.1, minRequests: 20 }
  // 100 answers: 95 under 50 ms, 5 between 250 and 500 ms → p99 in the 250–500 ms bucket.
  const slowTail: Responses = { total: 100, errors: 0, failovers: 0, buckets: new Map([[0.05, 95], [0.25, 95], [0.5, 100], [Infinity, 100]]) }
  const v = judgeStep(slowTail, false, gate)
  t.equal(v.kind, 'fail')
  t.equal(v.p99, 0.45)
  t.same(v.reasons, ['p99 450ms > 100ms'])
  const quick: Responses = { total: 100, errors: 0, failovers: 0, buckets: new Map([[0.05, 100], [0.25, 100], [Infinity, 100]]) }
  t.equal(judgeStep(quick, true, gate).kind, 'pass')
  t.equal(judgeStep({ ...slowTail, total: 10 }, true, gate).kind, 'wait', 'too few answers to judge')
  const both = judgeStep({ ...slowTail, errors: 50 }, false, { ...gate, maxErrorPercent: 1 })
  t.same(both.reasons, ['5xx 50 % > 1 %', 'p99 450ms > 100ms'])
})

t.test('a step whose answers all fall in one bucket: p99 is its lower bound plus 99 % of its width', async t => {
  const gate = { maxErrorPercent: undefined, maxP99Seconds: 0.025, minRequests: 5 }
  const bounds = [...DURATION_BUCKETS, Infinity]
  for (let i = 1; i < DURATION_BUCKETS.length; i++) {
    const lower = bounds[i - 1] as number
    const upper = bounds[i] as number
    // 40 answers, all in (lower, upper]: the cumulative counts are 0 up to `lower`, 40 from `upper` on.
    const buckets = new Map(bounds.map(b => [b, b >= upper ? 40 : 0]))
    const p99 = judgeStep({ total: 40, errors: 0, failovers: 0, buckets }, false, gate).p99 ?? NaN
    t.ok(Math.abs(p99 - (lower + (upper - lower) * 0.99)) < 1e-12, `(${lower}, ${upper}]: ${p99}`)
  }
  // The slow canary below: 80 ms answers are in (50 ms, 100 ms].
  const slow = new Map(bounds.map(b => [b, b >= 0.1 ? 40 : 0]))
  t.same(judgeStep({ total: 40, errors: 0, failovers: 0, buckets: slow }, false, gate).reasons, ['p99 100ms > 25ms'])
})

t.test('histogramQuantile estimates as Prometheus\'s histogram_quantile does', async t => {
  const h = new Map([[0.001, 10], [0.01, 60], [0.1, 90], [1, 100], [Infinity, 100]])
  t.equal(histogramQuantile(0.1, h), 0.001, 'rank at a bucket edge')
  const near = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) < 1e-12
  t.ok(near(histogramQuantile(0.5, h), 0.0082), 'linear inside the bucket: 0.001 + 0.009 × 40/50')
  t.ok(near(histogramQuantile(0.99, h), 0.91), '0.1 + 0.9 × 9/10')
  t.equal(histogramQuantile(0.99, new Map([[0.1, 50], [1, 50], [Infinity, 100]])), 1, 'in +Inf: the highest finite bound')
  t.equal(histogramQuantile(0.99, new Map([[0.1, 0], [Infinity, 0]])), undefined, 'no observations')
  // For any histogram, the estimate lies within the bucket that holds the rank.
  fc.assert(fc.property(fc.array(fc.nat(1000), { minLength: 3, maxLength: 13 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (counts, q) => {
    const bounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].slice(0, counts.length)
    const buckets = new Map<number, number>()
    let cumulative = 0
    counts.forEach((n, i) => { cumulative += n; buckets.set(bounds[i] as number, cumulative) })
    buckets.set(Infinity, cumulative)
    const v = histogramQuantile(q, buckets)
    if (cumulative === 0) return v === undefined
    const rank = q * cumulative
    const i = bounds.findIndex(b => (buckets.get(b) as number) >= rank)
    const lower = i <= 0 ? 0 : bounds[i - 1] as number
    const upper = i === -1 ? bounds[bounds.length - 1] as number : bounds[i] as number
    return v !== undefined && v >= (i === -1 ? upper : lower) - 1e-12 && v <= upper + 1e-12
  }))
})

t.test('--steps takes increasing percentages only', async t => {
  t.same(stepsArg('10, 25,50,100'), [10, 25, 50, 100])
  t.same(stepsArg('0,100'), [0, 100])
  for (const bad of ['10,5', '10,10', '101', '-5', '1.5', 'ten', '']) t.throws(() => stepsArg(bad), InvalidArgumentError, bad)
})

t.test('responsesOf sums one route and backend over rules, methods, codes, versions and failovers', async t => {
  // prom-client's own JSON (what /admin/metrics serves), from a registry holding these series.
  const registry = new Registry()
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code'], registers: [registry] })
  const count = (route: string, backend: string, version: string, rule: string, method: string, code: string, n: number): void => requests.inc({ route, backend, version, rule, method, code }, n)
  count('web', 'canary', '0.6', 'split', 'GET', '200', 90)
  count('web', 'canary', '0.6', 'beta', 'POST', '503', 4)
  count('web', 'canary', '0.6', 'split', 'GET', '500', 6)
  count('web', 'canary', '0.6', 'split', 'GET', '499', 3)
  count('web', 'stable', '0.5', 'split', 'GET', '500', 50)
  count('api', 'canary', '0.6', 'split', 'GET', '502', 7)
  const durations = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'h', labelNames: ['route', 'backend', 'version'], buckets: [0.005], registers: [registry] })
  const observe = (backend: string, version: string, seconds: number, n: number): void => { for (let i = 0; i < n; i++) durations.observe({ route: 'web', backend, version }, seconds) }
  observe('canary', '0.6', 0.001, 100)
  observe('canary', '0.6', 1, 3)
  observe('canary', '0.7', 0.001, 1)
  observe('canary', '0.7', 1, 1)
  observe('stable', '0.5', 1, 50)
  const failovers = new Counter({ name: 'switchyard_failovers_total', help: 'h', labelNames: ['route', 'backend', 'fallback'], registers: [registry] })
  failovers.inc({ route: 'web', backend: 'canary', fallback: 'stable' }, 7)
  failovers.inc({ route: 'web', backend: 'stable', fallback: 'old' }, 100)
  const r = responsesOf(await registry.getMetricsAsJSON(), 'web', 'canary')
  t.same([r.total, r.errors, r.failovers, [...r.buckets]], [110, 17, 7, [[0.005, 101], [Infinity, 105]]], 'versions of one backend add up; failovers count as errors')
})

t.test('responsesOf counts gRPC calls by grpc_error: a 200 with an error status is an error, once', async t => {
  const registry = new Registry()
  const requests = new Counter({ name: 'switchyard_requests_total', help: 'h', labelNames: ['route', 'backend', 'version', 'rule', 'method', 'code', 'grpc_code', 'grpc_error'], registers: [registry] })
  const count = (code: string, grpc: string, error: string, n: number): void => requests.inc({ route: 'rpc', backend: 'canary', version: '2', rule: 'split', method: 'POST', code, grpc_code: grpc, grpc_error: error }, n)
  count('200', 'OK', 'false', 80)
  count('200', 'NOT_FOUND', 'false', 5)
  count('200', 'INTERNAL', 'true', 10)
  count('503', 'UNAVAILABLE', 'true', 5)
  const r = responsesOf(await registry.getMetricsAsJSON(), 'rpc', 'canary')
  t.same([r.total, r.errors], [100, 15])
})

const { stable, canary } = await startBackends(t, 'stable', 'canary')

/** A canary answering 200, or 500 to every request while `failing` is set. */
async function switchableBackend (failing: boolean): Promise<{ url: string, failing: boolean, close: () => Promise<void> }> {
  const server = createServer((_req, res) => { res.writeHead(backend.failing ? 500 : 200, { 'content-type': 'text/plain' }).end('canary\n') })
  const backend = { url: '', failing, close: async () => { server.close(); server.closeAllConnections() } }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return backend
}

async function proxyFor (canaryUrl: string, extra: Record<string, unknown> = {}): Promise<Running> {
  return await startWith({
    ...extra,
    backends: { stable: { version: '0.5', targets: [stable.url] }, canary: { version: '0.6', targets: [canaryUrl] } },
    routes: [{ name: 'web', split: { stable: 90, canary: 10 }, retries: false }]
  })
}

/** Requests through the proxy one after another until stopped (new visitors: each is split by weight); counts those not answered 200. */
function traffic (p: Running, path = '/'): { stop: () => Promise<{ sent: number, failed: number }> } {
  let running = true
  let sent = 0
  let failed = 0
  const loop = (async () => {
    while (running) {
      if ((await p.get(path)).status !== 200) failed++
      sent++
    }
  })()
  return { stop: async () => { running = false; await loop; return { sent, failed } } }
}

/** Runs `switchyard ramp ARGS` against `p` while traffic flows to `path`. */
async function rampUnderLoad (p: Running, args: string[], path = '/'): Promise<{ code: number | null, lines: string[], stderr: string, sent: number, failed: number }> {
  const load = traffic(p, path)
  const r = await runCli(['ramp', ...args, '--admin', p.sy.adminUrl])
  const { sent, failed } = await load.stop()
  return { code: r.code, lines: r.stdout.trimEnd().split('\n'), stderr: r.stderr, sent, failed }
}

async function defaultSplit (p: Running): Promise<Record<string, number>> {
  const config = parse(await readFile(p.configPath, 'utf8')) as { routes: Array<{ split: Record<string, number> }> }
  return config.routes[0]?.split ?? {}
}

async function historySummaries (p: Running): Promise<string[]> {
  const h = await admin<{ entries: Array<{ summary: string }> }>(p.sy.adminUrl, 'GET', '/admin/history')
  return h.body.entries.map(e => e.summary)
}

t.test('a healthy canary is ramped step by step to 100 %', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  const r = await rampUnderLoad(p, ['web', 'canary', '--steps', '25,50,100', '--interval', '300ms', '--max-error-rate', '5', '--min-requests', '5'])
  t.ok(r.sent > 0)
  t.equal(r.failed, 0, 'no request failed during the ramp')
  t.equal(r.code, 0, r.stderr)
  // A step whose 300 ms brought fewer than 5 canary answers (a busy machine) says it waits for
  // traffic, then passes once they are in: those lines come and go with the machine's speed.
  const lines = r.lines.filter(l => !/^step \d\/3: waiting for traffic to judge it: \d+ of 5 responses so far$/.test(l))
  t.equal(lines[0], 'ramp web: canary → 25, 50, 100 %, 300ms per step, abort above 5 % 5xx (judged after 5 responses); from revision 1')
  t.equal(lines[1], 'step 1/3: revision 2: web: stable 90→75, canary 10→25')
  t.match(lines[2], /^step 1\/3: canary at 25 % for [\d.]+m?s: \d+ responses, 0 % 5xx, p99 [\d.]+m?s — ok$/)
  t.equal(lines[3], 'step 2/3: revision 3: web: stable 75→50, canary 25→50')
  t.match(lines[4], /^step 2\/3: canary at 50 % for [\d.]+m?s: \d+ responses, 0 % 5xx, p99 [\d.]+m?s — ok$/)
  t.equal(lines[5], 'step 3/3: revision 4: web: stable 50→0, canary 50→100')
  t.match(lines[6], /^step 3\/3: canary at 100 % for [\d.]+m?s: \d+ responses, 0 % 5xx, p99 [\d.]+m?s — ok$/)
  t.equal(lines[7], 'ramp done: web sends 100 % to canary')
  t.equal(lines.length, 8)
  t.same(await defaultSplit(p), { stable: 0, canary: 100 }, 'the file on disk holds the last step')
  t.equal((await p.get('/')).headers['x-backend'], 'canary')
  const history = await historySummaries(p)
  t.equal(history.length, 4, 'the start and one revision per step')
  t.same(history.slice(1), ['web: stable 90→75, canary 10→25', 'web: stable 75→50, canary 25→50', 'web: stable 50→0, canary 50→100'])
})

t.test('a failing canary is rolled back to the starting revision (exit 4)', async t => {
  const broken = await switchableBackend(true)
  const p = await proxyFor(broken.url)
  t.teardown(async () => { await p.close(); await broken.close() })
  const r = await rampUnderLoad(p, ['web', 'canary', '--steps', '25,50,100', '--interval', '30s', '--max-error-rate', '1', '--min-requests', '10'])
  t.ok(r.failed >= 10, 'the broken canary answered 500s')
  t.equal(r.code, 4, 'exit 4: analysis failed')
  const lines = r.lines
  t.equal(lines[1], 'step 1/3: revision 2: web: stable 90→75, canary 10→25')
  // Every canary answer is a 500, so the step fails once 10 answers are in, long before its 30 s.
  t.match(lines[2], /^step 1\/3: canary after [\d.]+m?s: (\d+) responses, 100 % 5xx, p99 [\d.]+m?s; 5xx 100 % > 1 %: aborting$/)
  t.equal(lines[3], 'revision 3: undo to revision 1: web: stable 75→90, canary 25→10')
  t.equal(lines.length, 4)
  t.equal(r.stderr, 'switchyard: ramp aborted at canary 25 %: routing restored to revision 1\n')
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
  const status = await admin<{ revision: number }>(p.sy.adminUrl, 'GET', '/admin/status')
  t.equal(status.body.revision, 3)
})

t.test('a dead canary whose share its fallback serves fails its step (exit 4)', async t => {
  const p = await startWith({
    backends: {
      stable: { version: '0.5', targets: [stable.url] },
      canary: { version: '0.6', targets: [`http://127.0.0.1:${await deadPort()}`], fallback: 'stable' }
    },
    routes: [{ name: 'web', split: { stable: 90, canary: 10 } }]
  })
  t.teardown(() => p.close())
  const r = await rampUnderLoad(p, ['web', 'canary', '--steps', '50,100', '--interval', '30s', '--max-error-rate', '1', '--min-requests', '10'])
  t.ok(r.sent > 0)
  t.equal(r.failed, 0, 'users never saw an error: stable answered for the canary')
  t.equal(r.code, 4, r.stderr)
  const lines = r.lines
  // Yet the canary served none of its share.
  t.match(lines[2], /^step 1\/2: canary after [\d.]+m?s: (\d+) requests, \1 failed over, 100 % 5xx or failover; 5xx or failover 100 % > 1 %: aborting$/)
  t.equal(lines[3], 'revision 3: undo to revision 1: web: stable 50→90, canary 50→10')
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
})

t.test('a ramp longer than the history still restores the starting weights', async t => {
  // Healthy until the last step begins, then every answer is a 500.
  const canaryApp = await switchableBackend(false)
  const p = await proxyFor(canaryApp.url, { revisionHistoryLimit: 2 })
  t.teardown(async () => { await p.close(); await canaryApp.close() })
  const load = traffic(p)
  const { lines, done } = await startCliInProcess(['ramp', 'web', 'canary', '--steps', '20,30,40', '--interval', '300ms', '--max-error-rate', '1', '--min-requests', '5', '--admin', p.sy.adminUrl], /^step 3\/3: revision 4: /)
  canaryApp.failing = true
  const { code } = await done
  await load.stop()
  t.equal(code, 4)
  t.equal(lines[lines.length - 1], 'revision 5: web: stable 60→90, canary 40→10 (revision 1 is no longer in the history: its weights were set again)')
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
})

t.test('a slow canary is rolled back on its p99 (exit 4)', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  // Every answer takes 80 ms (the echo backends' /delay/80), above the 25 ms limit.
  const r = await rampUnderLoad(p, ['web', 'canary', '--steps', '50,100', '--interval', '30s', '--max-p99', '25ms', '--min-requests', '5'], '/delay/80')
  t.equal(r.failed, 0, 'slow, not failing')
  t.equal(r.code, 4, r.stderr)
  const lines = r.lines
  t.equal(lines[0], 'ramp web: canary → 50, 100 %, 30s per step, abort above p99 25ms (judged after 5 responses); from revision 1')
  t.equal(lines[1], 'step 1/2: revision 2: web: stable 90→50, canary 10→50')
  const m = /^step 1\/2: canary after [\d.]+m?s: \d+ responses, 0 % 5xx, p99 (\d+)ms; p99 \1ms > 25ms: aborting$/.exec(lines[2] ?? '')
  t.ok(m !== null, lines[2] ?? 'no line')
  // No answer is faster than 80 ms, so no bucket up to 50 ms holds one and the estimate cannot be
  // below 50 ms. (How slow the answers are beyond that depends on the machine's load; the estimate
  // for a given histogram is pinned by the pure tests above.)
  t.ok(Number(m?.[1]) >= 50, `p99 ${m?.[1] ?? '?'}ms: at least the 50 ms bucket bound`)
  t.equal(lines[3], 'revision 3: undo to revision 1: web: stable 50→90, canary 50→10')
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
})

t.test('a ramp that meets another operator\'s change stops and leaves it (exit 3)', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  // Another operator sets the weights while step 1 is held: just before the ramp's next write.
  let writes = 0
  let other: CliResult | undefined
  const front = await interposeWrites(p.sy.adminUrl, async () => {
    if (++writes === 2) other = await runCli(['set-weight', 'web', 'canary=5', '--admin', p.sy.adminUrl])
  })
  t.teardown(() => front.close())
  const r = await runCli(['ramp', 'web', 'canary', '--steps', '20,40', '--interval', '100ms', '--admin', front.url])
  t.equal(other?.stdout, 'revision 3: web: stable 80→95, canary 20→5\n')
  t.equal(r.code, 3)
  t.match(r.stdout, /step 1\/2: canary at 20 % for [\d.]+m?s: 0 responses, 0 % 5xx — ok/)
  t.equal(r.stderr, 'switchyard: ramp stopped before canary 40 %: someone else changed the config during the ramp; their change stands (see `switchyard history`)\n')
  t.same(await defaultSplit(p), { stable: 95, canary: 5 })
})

t.test('Ctrl-C stops a ramp where it is and says how to go back', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  const { child } = await startCli(['ramp', 'web', 'canary', '--steps', '30,60', '--interval', '1m', '--admin', p.sy.adminUrl], /^step 1\/2: revision 2: /)
  let stderr = ''
  child.stderr?.on('data', d => { stderr += String(d) })
  const exited = once(child, 'close')
  child.kill('SIGINT')
  const [code] = await exited
  t.equal(code, 130)
  t.equal(stderr, 'switchyard: ramp interrupted (SIGINT) with canary at 30 %; routing is left as it is: `switchyard undo --to-revision 1` restores the start\n')
  t.same(await defaultSplit(p), { stable: 70, canary: 30 })
})

t.test('bad arguments are refused before anything changes', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  const cases: Array<[string[], RegExp]> = [
    [['web', 'canary', '--steps', '50,25', '--interval', '1s'], /--steps must increase/],
    [['web', 'canary', '--steps', '10', '--interval', 'soon'], /--interval: invalid duration "soon"/],
    [['web', 'canary', '--steps', '10', '--interval', '1s', '--max-error-rate', 'lots'], /--max-error-rate: expected a percentage/],
    [['web', 'canary', '--steps', '10', '--interval', '1s', '--max-p99', 'fast'], /--max-p99: invalid duration "fast"/],
    [['nope', 'canary', '--steps', '10', '--interval', '1s'], /no route named "nope"/]
  ]
  for (const [args, message] of cases) {
    const r = await runCli(['ramp', ...args, '--admin', p.sy.adminUrl])
    t.equal(r.code, 1, args.join(' '))
    t.match(r.stderr, message)
  }
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
  t.equal((await historySummaries(p)).length, 1, 'no revision was written')
})
