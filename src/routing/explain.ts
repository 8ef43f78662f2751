/**
 * explain(): why a request goes where it goes, for operators (`POST
 * /admin/explain`, `switchyard explain`). Pure, like decide(), and built on
 * the same compiled table, so it cannot disagree with the data path.
 */
import { hashString, SEED_A, SEED_B } from './hash.js'
import { pickSticky, unitHash, type WeightTable } from './weighted.js'
import type { Backend, Destination, RequestView, Route, RoutingTable } from './types.js'

export interface SyntheticRequest {
  readonly method?: string
  readonly host?: string
  /** Path, optionally with a query string. */
  readonly path?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly cookies?: Readonly<Record<string, string>>
}

export function syntheticView (r: SyntheticRequest): RequestView {
  const headers = new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  const rawPath = r.path ?? '/'
  const q = rawPath.indexOf('?')
  const query = new URLSearchParams(q === -1 ? '' : rawPath.slice(q + 1))
  const host = (r.host ?? headers.get('host') ?? '').toLowerCase().replace(/:\d+$/, '')
  return {
    method: (r.method ?? 'GET').toUpperCase(),
    host,
    path: q === -1 ? rawPath : rawPath.slice(0, q),
    header: name => name === 'host' && r.host !== undefined ? r.host : headers.get(name),
    cookie: name => r.cookies?.[name],
    query: name => query.get(name) ?? undefined
  }
}

export interface StickyExplanation {
  readonly source: 'cookie' | 'header'
  readonly name: string
  /** The user's key, or null when the request has none. */
  readonly key: string | null
  /** Per backend with weight > 0: weight / -ln(hash(key, backend)); the highest wins. */
  readonly scores?: Readonly<Record<string, number>>
  /**
   * For a two-backend split: the user's bucket — the share of the second
   * backend above which this user is on it (the user is on it while its
   * share of the weights is greater than this percentage).
   */
  readonly switchesAt?: { readonly backend: string, readonly percent: number }
}

export interface Explanation {
  readonly route: string | null
  readonly routesTried: ReadonlyArray<{ readonly name: string, readonly matched: boolean }>
  readonly rule: string | null
  readonly rulesTried: ReadonlyArray<{ readonly name: string, readonly matched: boolean }>
  readonly destination: { readonly kind: 'to', readonly backend: string } | { readonly kind: 'split', readonly weights: Readonly<Record<string, number>>, readonly percent: Readonly<Record<string, number>> } | null
  /** The backend the request goes to; null when it is decided by a random draw. */
  readonly backend: string | null
  readonly version: string | null
  readonly sticky: StickyExplanation | null
  readonly reason: string
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

function splitPercent (weights: ReadonlyArray<{ backend: Backend, weight: number }>): Record<string, number> {
  const total = weights.reduce((a, w) => a + w.weight, 0)
  return Object.fromEntries(weights.map(w => [w.backend.name, round(100 * w.weight / total, 3)]))
}

function describeDestination (d: Destination): NonNullable<Explanation['destination']> {
  if (d.kind === 'to') return { kind: 'to', backend: d.backend.name }
  return {
    kind: 'split',
    weights: Object.fromEntries(d.split.weights.map(w => [w.backend.name, w.weight])),
    percent: splitPercent(d.split.weights)
  }
}

function stickyScores (table: WeightTable<Backend>, key: string): { scores: Record<string, number>, us: number[] } {
  const a = hashString(key, SEED_A)
  const b = hashString(key, SEED_B)
  const scores: Record<string, number> = {}
  const us: number[] = []
  table.live.forEach((backend, i) => {
    const u = unitHash(a, b, table.seedsA[i] as number, table.seedsB[i] as number)
    us.push(u)
    scores[backend.name] = (table.liveWeights[i] as number) / -Math.log(u)
  })
  return { scores, us }
}

/** For backends x (first) and y (second): y wins while share_y > ln(u_y) / (ln(u_x) + ln(u_y)). */
function bucket (table: WeightTable<Backend>, us: number[]): StickyExplanation['switchesAt'] {
  if (table.live.length !== 2) return undefined
  const lx = Math.log(us[0] as number)
  const ly = Math.log(us[1] as number)
  return { backend: (table.live[1] as Backend).name, percent: round(100 * ly / (lx + ly), 3) }
}

export function explain (table: RoutingTable, req: RequestView): Explanation {
  const routesTried: Array<{ name: string, matched: boolean }> = []
  let route: Route | undefined
  for (const r of table.routes) {
    const matched = r.matches === undefined || r.matches(req)
    routesTried.push({ name: r.name, matched })
    if (matched) { route = r; break }
  }
  if (route === undefined) {
    return { route: null, routesTried, rule: null, rulesTried: [], destination: null, backend: null, version: null, sticky: null, reason: 'no route matches: the proxy answers 404' }
  }
  const rulesTried: Array<{ name: string, matched: boolean }> = []
  let rule = 'split'
  let dest = route.destination
  for (const r of route.rules) {
    const matched = r.matches(req)
    rulesTried.push({ name: r.name, matched })
    if (matched) { rule = r.name; dest = r.destination; break }
  }
  const by = rule === 'split' ? 'no rule matched, so the route default decides' : `rule ${rule} matched (all its conditions hold)`
  const base = { route: route.name, routesTried, rule, rulesTried, destination: describeDestination(dest) }
  if (dest.kind === 'to') {
    return { ...base, backend: dest.backend.name, version: dest.backend.version, sticky: null, reason: `${by}; it sends everyone to ${dest.backend.name}` }
  }
  const wt = dest.split.table
  const pct = splitPercent(dest.split.weights)
  const odds = Object.entries(pct).map(([b, p]) => `${b} ${p} %`).join(', ')
  const sticky = route.sticky
  if (sticky === undefined) {
    return { ...base, backend: null, version: null, sticky: null, reason: `${by}; a random draw per request: ${odds}` }
  }
  const key = sticky.source === 'cookie' ? req.cookie(sticky.name) : req.header(sticky.name)
  if (key === undefined || key === '') {
    const what = sticky.source === 'cookie'
      ? `a new user: switchyard sets a fresh ${sticky.name} cookie, which lands on ${odds}`
      : `no ${sticky.name} header: a random draw per request: ${odds}`
    return { ...base, backend: null, version: null, sticky: { source: sticky.source, name: sticky.name, key: null }, reason: `${by}; ${what}` }
  }
  const backend = pickSticky(wt, key)
  const { scores, us } = stickyScores(wt, key)
  const switchesAt = bucket(wt, us)
  const roundedScores = Object.fromEntries(Object.entries(scores).map(([b, s]) => [b, round(s, 6)]))
  const where = switchesAt === undefined ? '' : `; this user moves to ${switchesAt.backend} once its share exceeds ${switchesAt.percent} %`
  return {
    ...base,
    backend: backend.name,
    version: backend.version,
    sticky: { source: sticky.source, name: sticky.name, key, scores: roundedScores, ...(switchesAt === undefined ? {} : { switchesAt }) },
    reason: `${by}; sticky by ${sticky.source} ${sticky.name}=${key}: the highest weighted hash score is ${backend.name} (${odds})${where}`
  }
}
