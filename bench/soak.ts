/**
 * Soak client (run by soak.sh, which starts the backend and switchyard):
 * sends SOAK_REQUESTS requests through switchyard over keep-alive
 * connections while rewriting its config file atomically every
 * SOAK_RELOAD_MS (alternating the split's weights), and watches switchyard's
 * RSS. Passes when there were zero errors, every rewrite went live, and RSS
 * at the end is within SOAK_RSS_TOLERANCE of RSS after the first
 * SOAK_BASELINE requests (no leak).
 *
 * The traffic mixes what the data path handles: new visitors (no cookie →
 * sticky id + Set-Cookie), returning visitors (sticky cookie), a matching
 * rule now and then, and 16 KiB bodies. Bounded by count and by
 * SOAK_TIMEOUT_S; 127.0.0.1 only.
 *
 * env: TARGET, ADMIN, CONFIG (file to rewrite), SY_PID, OUT (results dir),
 *      SOAK_REQUESTS=1000000, SOAK_BASELINE=100000, SOAK_CONNS=16,
 *      SOAK_RELOAD_MS=2000, SOAK_TIMEOUT_S=600, SOAK_RSS_TOLERANCE=0.10,
 *      BODY_BYTES=100, LARGE_BODY_BYTES=16384
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Pool } from 'undici'
import { atomicWrite } from '../src/util/atomic-write.js'

function env (name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback
  if (v === undefined || v === '') throw new Error(`${name} is required`)
  return v
}
const num = (name: string, fallback: number): number => Number(env(name, String(fallback)))

const TARGET = env('TARGET')
const ADMIN = env('ADMIN')
const CONFIG = env('CONFIG')
const SY_PID = num('SY_PID', 0)
const OUT = env('OUT')
const TOTAL = num('SOAK_REQUESTS', 1_000_000)
const BASELINE_AT = num('SOAK_BASELINE', 100_000)
const CONNS = num('SOAK_CONNS', 16)
const RELOAD_MS = num('SOAK_RELOAD_MS', 2000)
const TIMEOUT_S = num('SOAK_TIMEOUT_S', 600)
const TOLERANCE = num('SOAK_RSS_TOLERANCE', 0.10)
const SMALL = num('BODY_BYTES', 100)
const LARGE = num('LARGE_BODY_BYTES', 16384)

for (const url of [TARGET, ADMIN]) {
  const host = new URL(url).hostname
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`soak only targets 127.0.0.1, not ${url}`)
}

/** VmRSS of switchyard's process, in KiB (0 if gone). */
function rssKb (): number {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${SY_PID}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
interface Kind { path: string, headers: Record<string, string>, bytes: number, expectSetCookie: boolean }
/** Request i's shape: every 10th is 16 KiB, every 50th matches a rule, half are new visitors. */
function kindOf (i: number): Kind {
  const path = i % 10 === 9 ? '/16k' : '/'
  const bytes = path === '/16k' ? LARGE : SMALL
  const headers: Record<string, string> = { 'user-agent': UA, accept: 'text/html,*/*;q=0.8' }
  if (i % 50 === 7) {
    headers['x-canary'] = 'always' // rule `beta-header`: `to`, no sticky cookie
    return { path, headers, bytes, expectSetCookie: false }
  }
  if (i % 2 === 0) {
    headers.cookie = `sy_id=user-${i % 5000}; theme=dark`
    return { path, headers, bytes, expectSetCookie: false }
  }
  return { path, headers, bytes, expectSetCookie: true }
}

const errors = new Map<string, number>()
const addError = (what: string): void => { errors.set(what, (errors.get(what) ?? 0) + 1) }

const pool = new Pool(TARGET, { connections: CONNS, pipelining: 1, keepAliveTimeout: 60_000 })
let issued = 0
let done = 0
let baselineKb = 0
let baselineAtMs = 0
const samples: Array<{ t: number, requests: number, rss_kb: number }> = []
const t0 = Date.now()
const deadline = t0 + TIMEOUT_S * 1000
let timedOut = false

async function worker (): Promise<void> {
  while (issued < TOTAL) {
    if (Date.now() > deadline) { timedOut = true; return }
    const i = issued++
    const k = kindOf(i)
    try {
      const res = await pool.request({ path: k.path, method: 'GET', headers: k.headers })
      const body = await res.body.arrayBuffer()
      if (res.statusCode !== 200) addError(`status ${res.statusCode}`)
      else if (body.byteLength !== k.bytes) addError(`body ${body.byteLength} B, expected ${k.bytes} B`)
      else if (k.expectSetCookie !== (res.headers['set-cookie'] !== undefined)) addError(k.expectSetCookie ? 'no Set-Cookie for a new visitor' : 'unexpected Set-Cookie')
    } catch (err) {
      addError(`transport ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    if (++done === BASELINE_AT) {
      baselineKb = rssKb()
      baselineAtMs = Date.now() - t0
    }
  }
}

// Config rewrites: the same file, the route's default split alternating.
const original = readFileSync(CONFIG, 'utf8')
const SPLIT_LINE = /split: \{ stable: 90, canary: 10 \}/
if (!SPLIT_LINE.test(original)) throw new Error(`${CONFIG}: no "split: { stable: 90, canary: 10 }" line to alternate`)
let rewrites = 0
let rewriting: Promise<void> = Promise.resolve()
const reloader = setInterval(() => {
  rewriting = rewriting.then(async () => {
    rewrites++
    const weights = rewrites % 2 === 1 ? 'split: { stable: 80, canary: 20 }' : 'split: { stable: 90, canary: 10 }'
    // A comment makes every rewrite a new revision even when the weights repeat.
    await atomicWrite(CONFIG, original.replace(SPLIT_LINE, weights) + `# soak rewrite ${rewrites}\n`)
  }).catch(err => { addError(`config rewrite ${(err as Error).message}`) })
}, RELOAD_MS)
const sampler = setInterval(() => { samples.push({ t: Date.now() - t0, requests: done, rss_kb: rssKb() }) }, 1000)

async function revision (): Promise<number> {
  const res = await fetch(`${ADMIN}/admin/status`)
  const body = await res.json() as { revision: number }
  return body.revision
}

const rev0 = await revision()
const startKb = rssKb()
await Promise.all(Array.from({ length: CONNS }, worker))
const elapsedS = (Date.now() - t0) / 1000
const endKb = rssKb()
clearInterval(reloader)
clearInterval(sampler)
await rewriting
// Let the watcher pick up the last rewrite (debounce 50 ms), then count revisions.
await new Promise(resolve => setTimeout(resolve, 1000))
const reloads = (await revision()) - rev0
await pool.close()

const errorCount = [...errors.values()].reduce((a, b) => a + b, 0)
const growth = baselineKb > 0 ? (endKb - baselineKb) / baselineKb : Number.NaN
const peakKb = Math.max(...samples.map(s => s.rss_kb), endKb)
const checks = [
  { what: `${TOTAL.toLocaleString('en-US')} requests completed`, ok: done === TOTAL && !timedOut, value: `${done.toLocaleString('en-US')}${timedOut ? ` (stopped at the ${TIMEOUT_S} s limit)` : ''}` },
  { what: 'errors', ok: errorCount === 0, value: errorCount === 0 ? '0' : [...errors].map(([k, v]) => `${v}× ${k}`).join(', ') },
  { what: `RSS at the end within ${TOLERANCE * 100} % of RSS after ${BASELINE_AT.toLocaleString('en-US')}`, ok: Number.isFinite(growth) && Math.abs(growth) <= TOLERANCE, value: `${(baselineKb / 1024).toFixed(1)} → ${(endKb / 1024).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %)` },
  { what: 'config rewrites that went live', ok: reloads >= rewrites - 1 && rewrites > 0, value: `${reloads} revisions for ${rewrites} rewrites` }
]
const lines = [
  `# Soak — ${new Date().toISOString()}`,
  '',
  `${done.toLocaleString('en-US')} requests in ${elapsedS.toFixed(1)} s (${Math.round(done / elapsedS).toLocaleString('en-US')} req/s), ${CONNS} keep-alive connections, ` +
  `config rewritten every ${RELOAD_MS} ms. RSS: ${(startKb / 1024).toFixed(1)} MiB before, ${(baselineKb / 1024).toFixed(1)} MiB after ${BASELINE_AT.toLocaleString('en-US')} requests ` +
  `(${(baselineAtMs / 1000).toFixed(1)} s), peak ${(peakKb / 1024).toFixed(1)} MiB, ${(endKb / 1024).toFixed(1)} MiB at the end.`,
  '',
  '| check | result | verdict |',
  '|---|---|---|',
  ...checks.map(c => `| ${c.what} | ${c.value} | ${c.ok ? 'pass' : '**FAIL**'} |`)
]
console.log(lines.join('\n'))
writeFileSync(join(OUT, 'soak.md'), lines.join('\n') + '\n')
writeFileSync(join(OUT, 'rss.jsonl'), samples.map(s => JSON.stringify(s)).join('\n') + '\n')
process.exitCode = checks.every(c => c.ok) ? 0 : 1
