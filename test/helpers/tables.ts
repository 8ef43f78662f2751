/** Routing tables and request views for socket-free tests of decide(). */
import { validateConfig } from '../../src/config/validate.js'
import { compile } from '../../src/routing/compile.js'
import type { Entropy, RequestView, RoutingTable } from '../../src/routing/types.js'
import { formatProblem } from '../../src/errors.js'

export function tableOf (config: unknown): RoutingTable {
  const v = validateConfig(config)
  if (!v.ok) throw new Error('test config invalid: ' + v.problems.map(p => formatProblem(p)).join('; '))
  return compile(v.config, 'test')
}

export interface ViewInit {
  method?: string
  host?: string
  path?: string
  headers?: Record<string, string>
  cookies?: Record<string, string>
  query?: Record<string, string>
}

export function view (init: ViewInit = {}): RequestView {
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  return {
    method: init.method ?? 'GET',
    host: init.host ?? 'example.com',
    path: init.path ?? '/',
    header: name => headers.get(name),
    cookie: name => init.cookies?.[name],
    query: name => init.query?.[name]
  }
}

/** Deterministic entropy: a fixed random value and numbered ids. */
export function fixedEntropy (rand = 0.5, idPrefix = 'id-'): Entropy & { ids: number } {
  const e = {
    ids: 0,
    random: () => rand,
    newId: () => `${idPrefix}${++e.ids}`
  }
  return e
}

/**
 * Draws that walk evenly over [0, 1): (k + 0.5) / n for k = 0 … n − 1, then
 * again. In any order, n of them split exactly by the weights (to the
 * nearest 1/n), so a split through sockets has an exact expected count.
 */
export function evenEntropy (n: number): Entropy {
  let k = 0
  let ids = 0
  return { random: () => ((k++ % n) + 0.5) / n, newId: () => `even-${++ids}` }
}

/** A seeded PRNG (mulberry32) for distribution tests. */
export function seededEntropy (seed: number): Entropy {
  let s = seed >>> 0
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  let n = 0
  return { random: next, newId: () => `user-${seed}-${++n}-${Math.floor(next() * 1e9)}` }
}

export const twoBackends = {
  stable: { version: '0.5', targets: ['http://127.0.0.1:9001'] },
  canary: { version: '0.6', targets: ['http://127.0.0.1:9003'] }
}
