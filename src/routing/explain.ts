/**
 * explain(): why a request goes where it goes, for operators (`POST
 * /admin/explain`, `switchyard explain`). The decision itself is made by
 * decide()'s own functions on the same compiled table, so it cannot
 * disagree with the data path; this module only describes it (the routes
 * and rules tried before the one that matched, the odds of a split, a
 * sticky user's scores and bucket).
 */
import { decideInRoute, findRoute } from './decide.js'
import { hashString, SEED_A, SEED_B } from './hash.js'
import { percentages, unitHash, type WeightTable } from './weighted.js'
import type { Backend, Destination, Entropy, RequestView, RoutingTable } from './types.js'

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

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits

const weightsOf = (d: Extract<Destination, { kind: 'split' }>): Array<{ name: string, weight: number }> =>
  d.split.weights.map(w => ({ name: w.backend.name, weight: w.weight }))

function describeDestination (d: Destination): NonNullable<Explanation['destination']> {
  if (d.kind === 'to') return { kind: 'to', backend: d.backend.name }
  const weights = weightsOf(d)
  return { kind: 'split', weights: Object.fromEntries(weights.map(w => [w.name, w.weight])), percent: percentages(weights) }
}

/** Each live backend's rendezvous score for `key` (pickSticky picks the highest), and the hash values behind them. */
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

/** Entropy that records what decide() asked of it: a draw or a new sticky id means the backend is chance. */
function probe (): Entropy & { chance: boolean } {
  return {
    chance: false,
    random () { this.chance = true; return 0 },
    newId () { this.chance = true; return 'explain' }
  }
}

export function explain (table: RoutingTable, req: RequestView): Explanation {
  const route = findRoute(table, req)
  // findRoute takes the first route that matches: every one before it did not.
  const routeIndex = route === undefined ? table.routes.length - 1 : route.index
  const routesTried = table.routes.slice(0, routeIndex + 1).map(r => ({ name: r.name, matched: r === route }))
  if (route === undefined) {
    return { route: null, routesTried, rule: null, rulesTried: [], destination: null, backend: null, version: null, sticky: null, reason: 'no route matches: the proxy answers 404' }
  }
  const entropy = probe()
  const decision = decideInRoute(route, req, entropy)
  const rule = decision.rule
  const ruleIndex = route.rules.findIndex(r => r.name === rule)
  const rulesTried = (ruleIndex === -1 ? route.rules : route.rules.slice(0, ruleIndex + 1)).map(r => ({ name: r.name, matched: r.name === rule }))
  const dest = ruleIndex === -1 ? route.destination : (route.rules[ruleIndex] as typeof route.rules[number]).destination
  const by = rule === 'split' ? 'no rule matched, so the route default decides' : `rule ${rule} matched (all its conditions hold)`
  const base = { route: route.name, routesTried, rule, rulesTried, destination: describeDestination(dest) }
  if (dest.kind === 'to') {
    return { ...base, backend: decision.backend.name, version: decision.backend.version, sticky: null, reason: `${by}; it sends everyone to ${decision.backend.name}` }
  }
  const odds = Object.entries(percentages(weightsOf(dest))).map(([b, p]) => `${b} ${p} %`).join(', ')
  const sticky = route.sticky
  if (sticky === undefined) {
    return { ...base, backend: null, version: null, sticky: null, reason: `${by}; a random draw per request: ${odds}` }
  }
  if (entropy.chance) {
    const what = sticky.source === 'cookie'
      ? `a new user: switchyard sets a fresh ${sticky.name} cookie, which lands on ${odds}`
      : `no ${sticky.name} header: a random draw per request: ${odds}`
    return { ...base, backend: null, version: null, sticky: { source: sticky.source, name: sticky.name, key: null }, reason: `${by}; ${what}` }
  }
  const key = (sticky.source === 'cookie' ? req.cookie(sticky.name) : req.header(sticky.name)) as string
  const { backend } = decision
  const { scores, us } = stickyScores(dest.split.table, key)
  const switchesAt = bucket(dest.split.table, us)
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
