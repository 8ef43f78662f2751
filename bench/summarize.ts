/**
 * Reads a run directory written by run.sh (meta.json, runs.jsonl, rss.jsonl)
 * and prints the markdown summary: medians over rounds (min–max), ratios to
 * the reference peers, the CPU split, peak RSS, and switchyard against the
 * goals of issue 6. Usage: node dist-bench/bench/summarize.js <results-dir>
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface Meta {
  date: string
  host_cpus: number
  cpu_model: string
  kernel: string
  mem_gib: number
  node: string
  nginx: string
  haproxy: string
  wrk: string
  git: string
  packages: Record<string, string>
  settings: {
    reps: number
    duration: number
    large_duration: number
    lat_duration: number
    warmup: number
    threads: number
    conns: number
    lat_rate: number
    lat_conns: number
    scenarios: string
    peers: string
    backend: string
    body_bytes: number
    large_body_bytes: number
    delay_ms: number
    quick: number
    other_max: number
    profile: number
    node_peer_args?: string
    switchyard_node_args?: string
    headers: string
  }
}

/** One wrk run (run.sh's CPU accounting + report.lua/paced.lua's BENCHJSON). */
interface Run {
  peer: string
  scenario: string
  rep: number
  attempt: number
  cpu_proxy: number | null
  /** The kernel's part of cpu_proxy (stime): socket syscalls, loopback TCP. */
  cpu_proxy_sys?: number | null
  cpu_backend: number
  cpu_wrk: number
  cpu_busy: number
  cpu_other: number
  contaminated: boolean
  /** The proxy's VmRSS right after the run (KiB; 0 for direct). */
  rss_kb?: number
  failed?: boolean
  requests: number
  rps: number
  p50_us: number
  p90_us: number
  p99_us: number
  p999_us: number
  err_connect: number
  err_read: number
  err_write: number
  err_status: number
  err_timeout: number
}

interface Rss { peer: string, rss_idle_kb: number, rss_end_kb: number, hwm_kb: number, backend_hwm_kb: number }

const dir = process.argv[2]
if (dir === undefined) {
  console.error('usage: summarize.js <results-dir>')
  process.exit(2)
}
const readLines = <T>(f: string): T[] => existsSync(f)
  ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as T)
  : []
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta
const S = meta.settings
const allRuns = readLines<Run>(join(dir, 'runs.jsonl'))
// A (peer, scenario, round) has several attempts when other processes stole
// CPU; keep the last clean attempt, else the last one.
const runs: Run[] = (() => {
  const pick = new Map<string, Run>()
  for (const r of allRuns) {
    const k = `${r.peer}|${r.scenario}|${r.rep}`
    const cur = pick.get(k)
    if (cur === undefined || cur.contaminated || !r.contaminated) pick.set(k, r)
  }
  return [...pick.values()]
})()
const rss = new Map(readLines<Rss>(join(dir, 'rss.jsonl')).map(r => [r.peer, r]))
const peers = S.peers.split(/\s+/).filter(Boolean)
const has = (p: string): boolean => peers.includes(p)
const REFS = ['direct', 'nginx', 'fastify', 'undici'].filter(has)
const SY = 'switchyard'
/** switchyard with its access log on for every request (bench/run.sh). */
const SY_LOG = 'switchyard-log'

const median = (xs: ReadonlyArray<number | null | undefined>): number | null => {
  const a = xs.filter((x): x is number => x != null && !Number.isNaN(x)).sort((x, y) => x - y)
  if (a.length === 0) return null
  const m = a.length >> 1
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2
}
const min = (xs: number[]): number => Math.min(...xs)
const max = (xs: number[]): number => Math.max(...xs)
// Runs still noisy after the re-runs are left out when the peer has clean rounds.
const sel = (peer: string, scen: string): Run[] => {
  const all = runs.filter(r => r.peer === peer && r.scenario === scen && r.failed !== true)
  const clean = all.filter(r => !r.contaminated)
  return clean.length > 0 ? clean : all
}
const medOf = (peer: string, scen: string, f: (r: Run) => number | null): number | null => median(sel(peer, scen).map(f))
const fmtInt = (x: number | null): string => x == null ? '–' : Math.round(x).toLocaleString('en-US')
const fmtK = (x: number): string => x >= 10000 ? `${(x / 1000).toFixed(1)}k` : Math.round(x).toLocaleString('en-US')
const ms = (us: number | null): string => us == null ? '–' : (us / 1000).toFixed(us < 10000 ? 2 : 1)
const r2 = (x: number | null): string => x == null || !Number.isFinite(x) ? '–' : x.toFixed(2)
const pct = (x: number | null): string => x == null ? '–' : String(Math.round(x))
const mib = (kb: number | undefined): string => kb === undefined || kb === 0 ? '–' : (kb / 1024).toFixed(0)
// proxy CPU time per request (µs): cpu_proxy (% of one core) ÷ achieved req/s
const cpuPerReq = (r: Run): number | null => r.cpu_proxy == null ? null : (r.cpu_proxy / 100) * 1e6 / r.rps
/** proxy CPU µs/req, with the kernel's share when run.sh recorded it. */
function cpuPerReqText (rs: Run[]): string {
  const cpr = median(rs.map(cpuPerReq))
  if (cpr == null) return '–'
  const sys = median(rs.map(r => r.cpu_proxy == null || r.cpu_proxy_sys == null || r.cpu_proxy === 0 ? null : r.cpu_proxy_sys / r.cpu_proxy))
  return sys == null ? cpr.toFixed(1) : `${cpr.toFixed(1)} (${Math.round(sys * 100)} % sys)`
}
const errors = (r: Run): number => r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout

/** Same-round ratio peer ÷ ref for each round both have: runs of one round are back to back. */
function pairedRatios (peer: string, ref: string, scen: string): number[] {
  const b = new Map(sel(ref, scen).map(r => [r.rep, r.rps]))
  return sel(peer, scen).flatMap(r => {
    const x = b.get(r.rep)
    return x === undefined ? [] : [r.rps / x]
  })
}
const pairedText = (xs: number[]): string => xs.length === 0 ? '–' : `${r2(median(xs))} (${r2(min(xs))}–${r2(max(xs))})`

const out: string[] = []
const p = (s = ''): void => { out.push(s) }

p(`# Peer benchmark — ${meta.date}${S.quick === 1 ? ' (QUICK: 1 round, smoke test only)' : ''}${S.profile === 1 ? ' (PROFILE: switchyard ran under --cpu-prof, its numbers are low)' : ''}`)
p()
p(`Machine: ${meta.host_cpus} CPU × ${meta.cpu_model}, ${meta.mem_gib} GiB, kernel ${meta.kernel}. ` +
  `node ${meta.node}, nginx ${meta.nginx || '–'}, wrk ${meta.wrk}; ` +
  Object.entries(meta.packages).map(([k, v]) => `${k} ${v}`).join(', ') + `; switchyard ${meta.git}.`)
if (S.node_peer_args !== undefined && S.node_peer_args !== '') p(`Node peers ran with node ${S.node_peer_args}.`)
if (S.switchyard_node_args !== undefined && S.switchyard_node_args !== '') p(`switchyard ran with node ${S.switchyard_node_args}.`)
p(`Backend: ${S.backend} (1 worker), GET / → ${S.body_bytes} B, GET /16k → ${S.large_body_bytes} B, delay ${S.delay_ms} ms. ` +
  `Load: wrk ${S.threads} thread, ${S.conns} connections; ${S.reps} round(s), peers interleaved (order rotated each round), ` +
  `${S.warmup}s warm-up per peer. Request headers: ${S.headers === '' ? "wrk's bare request (every request a new visitor)" : S.headers.split('|').map(h => `\`${h.split(':')[0] ?? h}\``).join(', ')}.`)
p()

function throughputTable (scen: string, title: string, dur: number): void {
  const rows = peers.map(peer => ({ peer, rs: sel(peer, scen) })).filter(x => x.rs.length > 0)
  if (rows.length === 0) return
  const med = new Map(rows.map(({ peer, rs }) => [peer, median(rs.map(r => r.rps))]))
  const ratio = (peer: string, ref: string): string => {
    const a = med.get(peer)
    const b = med.get(ref)
    return a == null || b == null ? '–' : r2(a / b)
  }
  p(`## ${title} — wrk -t${S.threads} -c${S.conns} -d${dur}s, median of ${S.reps}`)
  p()
  p(`| peer | req/s median (min–max) | ${REFS.map(r => `÷${r} | `).join('')}p50 ms | p99 ms | CPU % proxy / backend / wrk / other / machine | proxy CPU µs/req | RSS MiB idle / after runs / peak |`)
  p(`|---|---:|${REFS.map(() => '---:|').join('')}---:|---:|---|---:|---|`)
  for (const { peer, rs } of rows) {
    const rps = rs.map(r => r.rps)
    const c = [
      median(rs.map(r => r.cpu_proxy)), median(rs.map(r => r.cpu_backend)), median(rs.map(r => r.cpu_wrk)),
      median(rs.map(r => r.cpu_other)), median(rs.map(r => r.cpu_busy))
    ].map(pct).join(' / ')
    const m = rss.get(peer)
    const after = median(rs.map(r => r.rss_kb === undefined || r.rss_kb === 0 ? null : r.rss_kb))
    const mem = peer === 'direct' ? `(backend peak ${mib(m?.backend_hwm_kb)})` : m === undefined ? '–' : `${mib(m.rss_idle_kb)} / ${mib(after ?? undefined)} / ${mib(m.hwm_kb)}`
    const errs = rs.reduce((a, r) => a + errors(r), 0)
    const dirty = rs.filter(r => r.contaminated).length
    const n = rs.length < S.reps ? ` (n=${rs.length})` : ''
    p(`| ${peer}${errs > 0 ? ` ⚠${errs} err` : ''}${dirty > 0 ? ` ⚠${dirty} noisy` : ''}${n} | ${fmtInt(med.get(peer) ?? null)} (${fmtK(min(rps))}–${fmtK(max(rps))}) | ` +
      `${REFS.map(ref => `${ratio(peer, ref)} | `).join('')}${ms(median(rs.map(r => r.p50_us)))} | ${ms(median(rs.map(r => r.p99_us)))} | ${c} | ` +
      `${cpuPerReqText(rs)} | ${mem} |`)
  }
  p()
  const refs = ['fastify', 'nginx'].filter(has)
  if (refs.length === 0 || S.reps < 2) return
  p(`Same-round ratios (${scen}), median (min–max) over rounds:`)
  p()
  p(`| peer | ${refs.map(r => `÷${r}`).join(' | ')} |`)
  p(`|---|${refs.map(() => '---:').join('|')}|`)
  for (const { peer } of rows) p(`| ${peer} | ${refs.map(ref => pairedText(pairedRatios(peer, ref, scen))).join(' | ')} |`)
  p()
}

function latencyTable (scen: string, path: string, bytes: number): void {
  const rows = peers.map(peer => ({ peer, rs: sel(peer, scen) })).filter(x => x.rs.length > 0)
  if (rows.length === 0) return
  const d50 = has('direct') ? medOf('direct', scen, r => r.p50_us) : null
  const d99 = has('direct') ? medOf('direct', scen, r => r.p99_us) : null
  p(`## Latency at a fixed ${fmtInt(S.lat_rate)} req/s, GET ${path} (${bytes} B) — wrk -t${S.threads} -c${S.lat_conns} -d${S.lat_duration}s + lib/paced.lua, median of ${S.reps}`)
  p()
  p('| peer | achieved req/s | p50 ms | p90 ms | p99 ms median (min–max) | p99.9 ms | added p50 / p99 vs direct, µs | CPU % proxy | proxy CPU µs/req |')
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  const low: string[] = []
  for (const { peer, rs } of rows) {
    const ach = median(rs.map(r => r.rps))
    if (ach != null && ach < 0.95 * S.lat_rate) low.push(peer)
    const p50 = median(rs.map(r => r.p50_us))
    const p99s = rs.map(r => r.p99_us)
    const p99 = median(p99s)
    const added = d50 != null && d99 != null && p50 != null && p99 != null && peer !== 'direct'
      ? `${Math.round(p50 - d50)} / ${Math.round(p99 - d99)}`
      : '–'
    const errs = rs.reduce((a, r) => a + errors(r), 0)
    const n = rs.length < S.reps ? ` (n=${rs.length})` : ''
    const dirty = rs.filter(r => r.contaminated).length
    p(`| ${peer}${errs > 0 ? ` ⚠${errs} err` : ''}${dirty > 0 ? ` ⚠${dirty} noisy` : ''}${n} | ${fmtInt(ach)} | ${ms(p50)} | ${ms(median(rs.map(r => r.p90_us)))} | ` +
      `${ms(p99)} (${ms(min(p99s))}–${ms(max(p99s))}) | ${ms(median(rs.map(r => r.p999_us)))} | ${added} | ` +
      `${pct(median(rs.map(r => r.cpu_proxy)))} | ${cpuPerReqText(rs)} |`)
  }
  p()
  if (low.length > 0) p(`⚠ below 95 % of the offered rate (saturated, latency not comparable): ${low.join(', ')}\n`)
}

const scenarios = S.scenarios.split(/\s+/)
if (scenarios.includes('small')) throughputTable('small', `Max throughput, GET / (${S.body_bytes} B)`, S.duration)
if (scenarios.includes('large')) throughputTable('large', `Max throughput, GET /16k (${S.large_body_bytes} B)`, S.large_duration)
if (scenarios.includes('latency')) latencyTable('latency', '/', S.body_bytes)
if (scenarios.includes('latency-large')) latencyTable('latency-large', '/16k', S.large_body_bytes)

/** Issue 6's goals, each with its number, the target and by how much it is missed. */
function goalsSection (): void {
  if (!has(SY)) return
  p('## switchyard against the goals of issue 6')
  p()
  p('| goal | measured | target | verdict |')
  p('|---|---:|---:|---|')
  const verdict = (ok: boolean, short: string): string => ok ? 'met' : `**missed** (${short})`
  for (const [scen, label] of [['small', `${S.body_bytes} B`], ['large', `${S.large_body_bytes} B`]] as const) {
    if (!scenarios.includes(scen) || !has('fastify')) continue
    const xs = pairedRatios(SY, 'fastify', scen)
    const m = median(xs)
    if (m == null) continue
    p(`| throughput ÷ bare fastify, ${label} (same-round median) | ${pairedText(xs)} | ≥ 1.50 | ${verdict(m >= 1.5, `${Math.round((1 - m / 1.5) * 100)} % short of 1.5×`)} |`)
  }
  for (const [scen, label] of [['small', `${S.body_bytes} B`], ['large', `${S.large_body_bytes} B`]] as const) {
    if (!scenarios.includes(scen) || !has(SY_LOG)) continue
    // The access log on for every request, side by side with it off.
    if (has('fastify')) p(`| throughput ÷ bare fastify with the access log on, ${label} (same-round median) | ${pairedText(pairedRatios(SY_LOG, 'fastify', scen))} | – | – |`)
    p(`| throughput with the access log on ÷ off, ${label} (same-round median) | ${pairedText(pairedRatios(SY_LOG, SY, scen))} | – | – |`)
  }
  for (const [scen, label] of [['small', `${S.body_bytes} B`], ['large', `${S.large_body_bytes} B`]] as const) {
    if (!scenarios.includes(scen)) continue
    for (const ref of ['undici', 'nginx']) {
      if (!has(ref)) continue
      const xs = pairedRatios(SY, ref, scen)
      if (xs.length > 0) p(`| throughput ÷ ${ref}, ${label} (context) | ${pairedText(xs)} | – | – |`)
    }
  }
  for (const [scen, label] of [['latency', `${S.body_bytes} B`], ['latency-large', `${S.large_body_bytes} B`]] as const) {
    if (!scenarios.includes(scen)) continue
    const p99 = medOf(SY, scen, r => r.p99_us)
    if (p99 == null) continue
    const fp99 = has('fastify') ? medOf('fastify', scen, r => r.p99_us) : null
    p(`| p99 at ${fmtInt(S.lat_rate)} req/s, ${label} (fastify: ${ms(fp99)} ms) | ${ms(p99)} ms | ≤ 1.00 ms | ${verdict(p99 <= 1000, `${Math.round(p99 - 1000)} µs over`)} |`)
  }
  const sy = rss.get(SY)
  const fa = rss.get('fastify')
  if (sy !== undefined && fa !== undefined) {
    const over = (sy.hwm_kb - fa.hwm_kb) / 1024
    p(`| peak RSS (VmHWM over the whole run) | ${mib(sy.hwm_kb)} MiB | ≤ fastify's ${mib(fa.hwm_kb)} MiB | ${verdict(over <= 0, `${over.toFixed(0)} MiB over`)} |`)
    // Context: a peak is one moment; RSS after each load run shows the level.
    const afterRuns = (peer: string): number | null => median(runs.filter(r => r.peer === peer && r.rss_kb !== undefined && r.rss_kb > 0).map(r => r.rss_kb ?? null))
    const a = afterRuns(SY)
    const b = afterRuns('fastify')
    if (a != null && b != null) p(`| RSS right after each load run, median (context) | ${mib(a)} MiB | fastify: ${mib(b)} MiB | – |`)
    p(`| RSS idle after start (context) | ${mib(sy.rss_idle_kb)} MiB | fastify: ${mib(fa.rss_idle_kb)} MiB | – |`)
  }
  p()
}
goalsSection()

const failed = runs.filter(r => r.failed === true)
if (failed.length > 0) p(`⚠ failed runs: ${failed.map(r => `${r.peer}/${r.scenario}/${r.rep}`).join(', ')}\n`)
const retried = allRuns.filter(r => r.contaminated).length
const kept = runs.filter(r => r.contaminated)
if (retried > 0) {
  p(`Other processes used > ${S.other_max}% of a core during ${retried} run(s); those were re-run` +
    (kept.length > 0
      ? `, and ${kept.length} stayed noisy: ${kept.map(r => `${r.peer}/${r.scenario}/round ${r.rep}`).join(', ')} ` +
        '(left out of medians and same-round ratios when the peer has clean rounds; (n=k) = rounds used, ⚠ noisy = a noisy round had to be used)'
      : '') + '.\n')
}
p('CPU %: process-group CPU time ÷ wall time during the run (100 = one core); machine = all busy CPU ' +
  `(max ${meta.host_cpus * 100}); other = machine − everything this harness started − wrk. ` +
  'proxy CPU µs/req = proxy CPU time ÷ requests served (sys = the part spent in the kernel: socket syscalls, loopback TCP). ' +
  "RSS: sum over the peer's processes: idle after start, median right after this scenario's runs, and peak (VmHWM) over the whole run.")
console.log(out.join('\n'))
