/**
 * End to end with a real Prometheus: switchyard splits two routes between
 * two versions each, Prometheus scrapes /metrics every second and evaluates
 * the shipped rule files, and the test checks through Prometheus's HTTP API
 * that the numbers match the traffic that was sent and that the canary
 * alerts fire for the bad canary only.
 *
 *   route shop:    stable 1.0 (5 ms)  50 / canary 1.1 (60 ms, 1 request in 20 fails) 50
 *   route catalog: stable 1.0 (5 ms)  50 / candidate 1.2 (5 ms, healthy)            50
 *
 * The rules are loaded as shipped, except that the alerts' `for:` durations
 * are cut to 10 s so the test needs seconds, not minutes (the real durations
 * are covered by config/prometheus/tests/, run with `promtool test rules`).
 * Run with `npm run test:e2e`.
 */
import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startWith } from '../helpers/switchyard.js'
import { findPrometheus, INSTALL_HINT, startPrometheus, type PromSample } from './prometheus.js'
import { startVersionApp } from './version-app.js'

const RULES_DIR = join(import.meta.dirname, '../../config/prometheus')
const PER_ROUTE_RPS = 40
const MIN_TRAFFIC_S = 40
const MAX_TRAFFIC_S = 120
const WINDOW_S = 30

interface Sent { route: string, backend: string, status: number, at: number }

/** `{ 'route/backend': value }` from a vector with route and backend labels. */
function byPair (samples: readonly PromSample[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of samples) out[`${s.metric.route ?? ''}/${s.metric.backend ?? ''}`] = s.value
  return out
}

function alertKeys (samples: readonly PromSample[]): string[] {
  return samples.map(s => `${s.metric.alertname ?? ''} ${s.metric.route ?? ''}/${s.metric.backend ?? ''}`).sort()
}

const bin = findPrometheus()
if (bin === undefined) {
  t.fail(INSTALL_HINT)
} else {
  t.test('a real Prometheus sees each version as it was sent, and the canary alerts fire for the bad canary only', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-e2e-'))
    t.teardown(async () => await rm(dir, { recursive: true, force: true }))

    await writeFile(join(dir, 'switchyard.rules.yml'), await readFile(join(RULES_DIR, 'switchyard.rules.yml')))
    const alerts = await readFile(join(RULES_DIR, 'switchyard.alerts.yml'), 'utf8')
    const fast = alerts.replace(/^(\s+for:) \S+$/gm, '$1 10s')
    t.equal(fast.match(/^\s+for: 10s$/gm)?.length, 3, 'every alert\'s `for:` was shortened')
    await writeFile(join(dir, 'switchyard.alerts.yml'), fast)

    const stable = await startVersionApp({ delayMs: 5 })
    const canary = await startVersionApp({ delayMs: 60, errorEvery: 20 })
    const candidate = await startVersionApp({ delayMs: 5 })
    t.teardown(async () => { await stable.close(); await canary.close(); await candidate.close() })
    const sy = await startWith({
      proxy: { backendHeader: 'x-switchyard-backend' },
      backends: {
        stable: { version: '1.0', targets: [stable.url] },
        canary: { version: '1.1', targets: [canary.url] },
        candidate: { version: '1.2', targets: [candidate.url] }
      },
      routes: [
        { name: 'shop', match: { host: 'shop.test' }, split: { stable: 50, canary: 50 } },
        { name: 'catalog', match: { host: 'catalog.test' }, split: { stable: 50, candidate: 50 } }
      ]
    })
    t.teardown(() => sy.close())
    // Warm up (connections, JIT) before Prometheus's first scrape, which is
    // the zero every rate() below starts from: cold-start latency is not
    // what this test measures.
    for (let i = 0; i < 50; i++) await Promise.all([sy.get('/', { host: 'shop.test' }), sy.get('/', { host: 'catalog.test' })])

    const prom = await startPrometheus({
      bin,
      dir,
      target: new URL(sy.sy.adminUrl).host,
      ruleFiles: ['switchyard.rules.yml', 'switchyard.alerts.yml'],
      intervalSeconds: 1
    })
    t.teardown(() => prom.stop())

    // Traffic: one request per route every 1000/PER_ROUTE_RPS ms, until both
    // canary alerts fire (and at least MIN_TRAFFIC_S, so the windows below are full).
    const sent: Sent[] = []
    const inFlight = new Set<Promise<void>>()
    const send = (route: string): void => {
      const p = sy.get('/', { host: `${route}.test` }).then(r => {
        sent.push({ route, backend: String(r.headers['x-switchyard-backend']), status: r.status, at: Date.now() / 1000 })
      }, (err: unknown) => { t.fail(`request to ${route} failed: ${String(err)}`) })
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    }
    const started = Date.now()
    const ticker = setInterval(() => { send('shop'); send('catalog') }, 1000 / PER_ROUTE_RPS)
    const wanted = ['SwitchyardVersionErrorRateAboveBaseline shop/canary', 'SwitchyardVersionLatencyAboveBaseline shop/canary']
    let firing: string[] = []
    try {
      for (;;) {
        await new Promise(resolve => setTimeout(resolve, 2000))
        firing = alertKeys(await prom.query('ALERTS{alertstate="firing"}'))
        const elapsed = (Date.now() - started) / 1000
        if ((elapsed >= MIN_TRAFFIC_S && wanted.every(w => firing.includes(w))) || elapsed > MAX_TRAFFIC_S) break
      }
    } finally {
      clearInterval(ticker)
    }
    await Promise.all([...inFlight])
    const end = Date.now() / 1000
    t.comment(`traffic for ${Math.round(end - started / 1000)} s, ${sent.length} requests`)
    await new Promise(resolve => setTimeout(resolve, 2000)) // the last scrape and rule evaluation
    t.same(firing, wanted, 'firing at the end of the traffic: both canary alerts for shop/canary, nothing else')

    // Everything below is read at `at`, a moment while traffic still flowed.
    const at = end - 2
    const inWindow = sent.filter(s => s.at > at - WINDOW_S && s.at <= at)
    const count = (route: string, backend: string, ok?: boolean): number =>
      inWindow.filter(s => s.route === route && s.backend === backend && (ok === undefined || (s.status < 500) === ok)).length

    const pairs = [['shop', 'stable'], ['shop', 'canary'], ['catalog', 'stable'], ['catalog', 'candidate']] as const
    const rates = byPair(await prom.query(`sum by (route, backend) (rate(switchyard_requests_total[${WINDOW_S}s]))`, at))
    for (const [route, backend] of pairs) {
      const sentRate = count(route, backend) / WINDOW_S
      const seen = rates[`${route}/${backend}`] ?? 0
      t.ok(Math.abs(seen - sentRate) <= 0.1 * sentRate, `${route}/${backend}: ${seen.toFixed(2)} req/s in Prometheus, ${sentRate.toFixed(2)} req/s sent`)
    }

    const success = byPair(await prom.query(
      `sum by (route, backend) (rate(switchyard_requests_total{code!~"5.."}[${WINDOW_S}s])) / sum by (route, backend) (rate(switchyard_requests_total[${WINDOW_S}s]))`, at))
    for (const [route, backend] of pairs) {
      const sentRatio = count(route, backend, true) / count(route, backend)
      const seen = success[`${route}/${backend}`] ?? -1
      t.ok(Math.abs(seen - sentRatio) <= 0.01, `${route}/${backend}: success ${seen.toFixed(4)} in Prometheus, ${sentRatio.toFixed(4)} sent`)
    }
    t.equal(canary.errors * 20, canary.served - (canary.served % 20), 'the canary failed exactly 1 request in 20')

    // p99 against what the versions were told to do, within the histogram's
    // resolution: every stable/candidate request took at least 5 ms, every
    // canary request at least 60 ms (so at least the 0.05 s bucket's lower
    // edge). How much more depends on the machine's load, so the only upper
    // bounds are the canary's (1 s, for a 60 ms sleep) and stable < canary.
    const p99 = byPair(await prom.query(
      `histogram_quantile(0.99, sum by (route, backend, le) (rate(switchyard_request_duration_seconds_bucket[${WINDOW_S}s])))`, at))
    for (const [route, backend] of pairs) {
      const v = p99[`${route}/${backend}`] ?? NaN
      const lo = backend === 'canary' ? 0.05 : 0.005
      t.ok(v >= lo && v < 1, `${route}/${backend}: p99 ${(v * 1000).toFixed(1)} ms, at least ${lo * 1000} ms`)
    }
    t.ok((p99['shop/stable'] ?? NaN) < (p99['shop/canary'] ?? NaN), 'the canary\'s p99 is above stable\'s')

    // The recording rules produce values, and the comparisons point at the canary.
    const rule = async (name: string): Promise<Record<string, number>> => byPair(await prom.query(name, at))
    const ruleSuccess = await rule('job_route_backend_version:switchyard_requests_success:ratio_rate5m')
    t.same(Object.keys(ruleSuccess).sort(), ['catalog/candidate', 'catalog/stable', 'shop/canary', 'shop/stable'])
    t.ok(Math.abs((ruleSuccess['shop/canary'] ?? 0) - 0.95) <= 0.01, `recorded canary success ratio ${ruleSuccess['shop/canary']}`)
    for (const k of ['shop/stable', 'catalog/stable', 'catalog/candidate']) t.equal(ruleSuccess[k], 1, `recorded ${k} success ratio`)
    const p50 = await rule('job_route_backend_version:switchyard_request_duration_seconds:p50_rate5m')
    const rp99 = await rule('job_route_backend_version:switchyard_request_duration_seconds:p99_rate5m')
    for (const [route, backend] of pairs) {
      const k = `${route}/${backend}`
      t.ok((p50[k] ?? NaN) > 0 && (p50[k] ?? NaN) <= (rp99[k] ?? NaN), `${k}: p50 ${p50[k]} ≤ p99 ${rp99[k]}`)
    }
    const minus = await rule('job_route_backend_version:switchyard_requests_errors:ratio_rate5m_minus_baseline')
    t.ok(Math.abs((minus['shop/canary'] ?? 0) - 0.05) <= 0.01, `shop/canary errors minus baseline: ${minus['shop/canary']}`)
    t.ok(Math.abs((minus['shop/stable'] ?? 0) + 0.05) <= 0.01, `shop/stable errors minus baseline: ${minus['shop/stable']}`)
    t.equal(minus['catalog/candidate'], 0, 'a healthy candidate fails no more than its baseline')
    const over = await rule('job_route_backend_version:switchyard_request_duration_seconds:p99_rate5m_over_baseline')
    t.ok((over['shop/canary'] ?? 0) > 1.5, `shop/canary p99 over baseline: ${over['shop/canary']}`)
    // Two identical versions: near 1, but load can skew one tail for a while;
    // whether that is worth an alert is the alert's call (checked below).
    t.ok(Number.isFinite(over['catalog/candidate']), `catalog/candidate p99 over baseline: ${over['catalog/candidate']}`)

    // Over the whole run, no alert was ever even pending for anything but the bad canary.
    const ever = alertKeys(await prom.query('max_over_time(ALERTS[5m])', at))
    t.same([...new Set(ever)], wanted, 'no alert for the healthy candidate, for stable, or for config reloads')
    if (t.passing() === false) t.comment(await prom.log())
  })
}
