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
import { judgeStep, parseSteps, responsesOf } from '../../src/commands/ramp.js'
import { parseExposition } from '../../src/observability/exposition.js'
import { CliError } from '../../src/commands/admin-client.js'
import { startBackends } from '../helpers/backends.js'
import { runCli, startCli } from '../helpers/cli.js'
import { startWith, type Running } from '../helpers/switchyard.js'
import { admin } from '../helpers/admin.js'

t.test('judgeStep: fail as soon as enough answers are bad, pass only after the interval with enough answers', async t => {
  const gate = { maxErrorPercent: 5, minRequests: 20 }
  const cases: Array<[string, { total: number, errors: number }, boolean, string]> = [
    ['too few answers to judge, even all bad', { total: 19, errors: 19 }, false, 'wait'],
    ['enough answers, too many 5xx: fail before the interval ends', { total: 20, errors: 2 }, false, 'fail'],
    ['exactly the limit is fine', { total: 100, errors: 5 }, true, 'pass'],
    ['just above the limit fails', { total: 100, errors: 6 }, true, 'fail'],
    ['good so far, interval not over', { total: 500, errors: 0 }, false, 'wait'],
    ['interval over without traffic: keep waiting', { total: 3, errors: 0 }, true, 'wait']
  ]
  for (const [desc, delta, over, kind] of cases) t.equal(judgeStep(delta, over, gate).kind, kind, desc)
  t.equal(judgeStep({ total: 8, errors: 2 }, true, gate).errorPercent, 25)
  t.equal(judgeStep({ total: 0, errors: 0 }, true, { maxErrorPercent: undefined, minRequests: 20 }).kind, 'pass', 'no analysis: timed steps only')
  t.equal(judgeStep({ total: 10, errors: 10 }, false, { maxErrorPercent: undefined, minRequests: 1 }).kind, 'wait')
})

t.test('parseSteps accepts increasing percentages only', async t => {
  t.same(parseSteps('10, 25,50,100'), [10, 25, 50, 100])
  t.same(parseSteps('0,100'), [0, 100])
  for (const bad of ['10,5', '10,10', '101', '-5', '1.5', 'ten', '']) t.throws(() => parseSteps(bad), CliError, bad)
})

t.test('responsesOf sums one route and backend over rules, methods and codes', async t => {
  const text = [
    '# TYPE switchyard_requests_total counter',
    'switchyard_requests_total{route="web",backend="canary",version="0.6",rule="split",method="GET",code="200"} 90',
    'switchyard_requests_total{route="web",backend="canary",version="0.6",rule="beta",method="POST",code="503"} 4',
    'switchyard_requests_total{route="web",backend="canary",version="0.6",rule="split",method="GET",code="500"} 6',
    'switchyard_requests_total{route="web",backend="canary",version="0.6",rule="split",method="GET",code="499"} 3',
    'switchyard_requests_total{route="web",backend="stable",version="0.5",rule="split",method="GET",code="500"} 50',
    'switchyard_requests_total{route="api",backend="canary",version="0.6",rule="split",method="GET",code="502"} 7'
  ].join('\n')
  t.same(responsesOf(parseExposition(text), 'web', 'canary'), { total: 103, errors: 10 })
})

const { stable, canary } = await startBackends(t, 'stable', 'canary')

/** A canary that answers every request with 500. */
async function brokenBackend (): Promise<{ url: string, close: () => Promise<void> }> {
  const server = createServer((_req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }).end('broken\n') })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: async () => { server.close(); server.closeAllConnections() } }
}

async function proxyFor (canaryUrl: string): Promise<Running> {
  return await startWith({
    backends: { stable: { version: '0.5', targets: [stable.url] }, canary: { version: '0.6', targets: [canaryUrl] } },
    routes: [{ name: 'web', split: { stable: 90, canary: 10 }, retries: false }]
  })
}

/** Requests through the proxy one after another until stopped (new visitors: each is split by weight). */
function traffic (p: Running): { stop: () => Promise<number> } {
  let running = true
  let sent = 0
  const loop = (async () => {
    while (running) {
      await p.get('/')
      sent++
    }
  })()
  return { stop: async () => { running = false; await loop; return sent } }
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
  const load = traffic(p)
  const r = await runCli(['ramp', 'web', 'canary', '--steps', '25,50,100', '--interval', '300ms', '--max-error-rate', '5', '--min-requests', '5', '--admin', p.sy.adminUrl])
  t.ok(await load.stop() > 0)
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  t.equal(lines[0], 'ramp web: canary → 25, 50, 100 %, 300ms per step, abort above 5 % 5xx (judged after 5 responses); from revision 1')
  t.equal(lines[1], 'step 1/3: revision 2: web: stable 90→75, canary 10→25')
  t.match(lines[2], /^step 1\/3: canary at 25 % for [\d.]+m?s: \d+ responses, 0 % 5xx — ok$/)
  t.equal(lines[3], 'step 2/3: revision 3: web: stable 75→50, canary 25→50')
  t.match(lines[4], /^step 2\/3: canary at 50 % for [\d.]+m?s: \d+ responses, 0 % 5xx — ok$/)
  t.equal(lines[5], 'step 3/3: revision 4: web: stable 50→0, canary 50→100')
  t.match(lines[6], /^step 3\/3: canary at 100 % for [\d.]+m?s: \d+ responses, 0 % 5xx — ok$/)
  t.equal(lines[7], 'ramp done: web sends 100 % to canary')
  t.equal(lines.length, 8)
  t.same(await defaultSplit(p), { stable: 0, canary: 100 }, 'the file on disk holds the last step')
  t.equal((await p.get('/')).headers['x-backend'], 'canary')
  const history = await historySummaries(p)
  t.equal(history.length, 4, 'the start and one revision per step')
  t.same(history.slice(1), ['web: stable 90→75, canary 10→25', 'web: stable 75→50, canary 25→50', 'web: stable 50→0, canary 50→100'])
})

t.test('a failing canary is rolled back to the starting revision (exit 4)', async t => {
  const broken = await brokenBackend()
  const p = await proxyFor(broken.url)
  t.teardown(async () => { await p.close(); await broken.close() })
  const load = traffic(p)
  const r = await runCli(['ramp', 'web', 'canary', '--steps', '25,50,100', '--interval', '30s', '--max-error-rate', '1', '--min-requests', '10', '--admin', p.sy.adminUrl])
  await load.stop()
  t.equal(r.code, 4, 'exit 4: analysis failed')
  const lines = r.stdout.trimEnd().split('\n')
  t.equal(lines[1], 'step 1/3: revision 2: web: stable 90→75, canary 10→25')
  // Every canary answer is a 500, so the step fails once 10 answers are in, long before its 30 s.
  t.match(lines[2], /^step 1\/3: canary answered (\d+) of \1 requests with 5xx \(100 % > 1 %\) after [\d.]+m?s: aborting$/)
  t.equal(lines[3], 'revision 3: undo to revision 1: web: stable 75→90, canary 25→10')
  t.equal(lines.length, 4)
  t.equal(r.stderr, 'switchyard: ramp aborted at canary 25 %: routing restored to revision 1\n')
  t.same(await defaultSplit(p), { stable: 90, canary: 10 })
  const status = await admin<{ revision: number }>(p.sy.adminUrl, 'GET', '/admin/status')
  t.equal(status.body.revision, 3)
})

t.test('a ramp that meets another operator\'s change stops and leaves it (exit 3)', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  const { child, lines } = await startCli(['ramp', 'web', 'canary', '--steps', '20,40', '--interval', '5s', '--admin', p.sy.adminUrl], /^step 1\/2: revision 2: /)
  let stderr = ''
  child.stderr?.on('data', d => { stderr += String(d) })
  const exited = once(child, 'exit')
  // Another operator sets the weights while step 1 is held (5 s: ample time for this command).
  const other = await runCli(['set-weight', 'web', 'canary=5', '--admin', p.sy.adminUrl])
  t.equal(other.stdout, 'revision 3: web: stable 80→95, canary 20→5\n')
  const [code] = await exited
  t.equal(code, 3)
  t.match(lines.join('\n'), /step 1\/2: canary at 20 % for [\d.]+s: \d+ responses, 0 % 5xx — ok/)
  t.equal(stderr, 'switchyard: ramp stopped before canary 40 %: someone else changed the config during the ramp; their change stands (see `switchyard history`)\n')
  t.same(await defaultSplit(p), { stable: 95, canary: 5 })
})

t.test('bad arguments are refused before anything changes', async t => {
  const p = await proxyFor(canary.url)
  t.teardown(() => p.close())
  const cases: Array<[string[], RegExp]> = [
    [['web', 'canary', '--steps', '50,25', '--interval', '1s'], /--steps must increase/],
    [['web', 'canary', '--steps', '10', '--interval', 'soon'], /--interval: invalid duration "soon"/],
    [['web', 'canary', '--steps', '10', '--interval', '1s', '--max-error-rate', 'lots'], /--max-error-rate: expected a percentage/],
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
