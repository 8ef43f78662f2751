/**
 * A bounded load generator for the reliability scenarios: `total` GET
 * requests over keep-alive connections to 127.0.0.1, `concurrency` at a
 * time, each checked for a 200 and a whole body. While it runs, the
 * scenario changes things (weights, reloads, dead targets, a shutdown);
 * the result lists every failure, so a test can assert there were none.
 */
import { Pool } from 'undici'

export interface LoadResult {
  sent: number
  ok: number
  failures: string[]
  /** Requests answered per backend (x-backend header). */
  byBackend: Record<string, number>
}

export interface LoadOptions {
  total: number
  concurrency?: number
  /** Picks the proxy for each request (several instances behind a "load balancer"). */
  target: () => string
  /** Called after every `every` requests with the count so far. */
  progress?: { every: number, fn: (sent: number) => Promise<void> | void }
  headers?: Record<string, string>
}

export async function runLoad (opts: LoadOptions): Promise<LoadResult> {
  const pools = new Map<string, Pool>()
  const pool = (origin: string): Pool => {
    let p = pools.get(origin)
    if (p === undefined) {
      p = new Pool(origin, { connections: 64, keepAliveTimeout: 10_000 })
      pools.set(origin, p)
    }
    return p
  }
  const result: LoadResult = { sent: 0, ok: 0, failures: [], byBackend: {} }
  const concurrency = opts.concurrency ?? 32
  let next = 0
  let progressDue = opts.progress?.every ?? Infinity
  let pausing: Promise<void> | undefined

  async function worker (): Promise<void> {
    while (next < opts.total) {
      const n = next++
      if (opts.progress !== undefined && n >= progressDue) {
        progressDue += opts.progress.every
        pausing = Promise.resolve(opts.progress.fn(n)).finally(() => { pausing = undefined })
      }
      const origin = opts.target()
      result.sent++
      try {
        const res = await pool(origin).request({ path: `/load/${n}`, method: 'GET', headers: opts.headers, headersTimeout: 10_000, bodyTimeout: 10_000 })
        const body = await res.body.text()
        if (res.statusCode === 200 && body.length > 0) {
          result.ok++
          const b = String(res.headers['x-backend'])
          result.byBackend[b] = (result.byBackend[b] ?? 0) + 1
        } else {
          result.failures.push(`#${n} ${origin}: ${res.statusCode} ${body.slice(0, 80)}`)
        }
      } catch (err) {
        result.failures.push(`#${n} ${origin}: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  await pausing
  await Promise.all([...pools.values()].map(async p => await p.close()))
  return result
}
