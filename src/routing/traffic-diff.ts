/**
 * How much traffic a config change moves, per route and per rule split: for
 * sticky routes the share of users that change backend (from → to), from
 * the same rendezvous hash the proxy uses over a fixed sample of keys; for
 * non-sticky routes the change of each backend's share of requests.
 */
import type { Destination, RoutingTable } from './types.js'
import { buildWeightTable, percentages, pickSticky, type WeightTable } from './weighted.js'

export interface Move { readonly from: string, readonly to: string, readonly percent: number }

export interface DestinationDiff {
  readonly route: string
  /** `default` for the route's own destination, else the rule's name. */
  readonly part: string
  readonly sticky: boolean
  readonly shares: Readonly<Record<string, { readonly before: number, readonly after: number }>>
  /** Sticky only: users moving between backends. */
  readonly moves: readonly Move[]
}

export interface TrafficDiff {
  readonly changed: readonly DestinationDiff[]
  readonly routesAdded: readonly string[]
  readonly routesRemoved: readonly string[]
}

const SAMPLE = 50_000
const round = (x: number): number => Math.round(x * 1000) / 1000

function weightsOf (d: Destination): Map<string, number> {
  if (d.kind === 'to') return new Map([[d.backend.name, 1]])
  return new Map(d.split.weights.map(w => [w.backend.name, w.weight]))
}

function tableOf (weights: Map<string, number>): WeightTable<string> {
  return buildWeightTable([...weights].map(([name, weight]) => ({ item: name, name, weight })))
}

function shares (weights: Map<string, number>): Map<string, number> {
  return new Map(Object.entries(percentages([...weights].map(([name, weight]) => ({ name, weight })))))
}

function diffDestination (route: string, part: string, sticky: boolean, a: Destination, b: Destination): DestinationDiff | undefined {
  const wa = weightsOf(a)
  const wb = weightsOf(b)
  const sa = shares(wa)
  const sb = shares(wb)
  const names = [...new Set([...sa.keys(), ...sb.keys()])]
  if (names.every(n => (sa.get(n) ?? 0) === (sb.get(n) ?? 0))) return undefined
  const shareMap = Object.fromEntries(names.map(n => [n, { before: sa.get(n) ?? 0, after: sb.get(n) ?? 0 }]))
  const moves: Move[] = []
  if (sticky) {
    const ta = tableOf(wa)
    const tb = tableOf(wb)
    const counts = new Map<string, number>()
    for (let i = 0; i < SAMPLE; i++) {
      const key = `diff-sample-${i}`
      const from = pickSticky(ta, key)
      const to = pickSticky(tb, key)
      if (from !== to) counts.set(`${from}\0${to}`, (counts.get(`${from}\0${to}`) ?? 0) + 1)
    }
    for (const [k, n] of counts) {
      const [from, to] = k.split('\0') as [string, string]
      moves.push({ from, to, percent: round(100 * n / SAMPLE) })
    }
    moves.sort((x, y) => y.percent - x.percent)
  }
  return { route, part, sticky, shares: shareMap, moves }
}

export function trafficDiff (before: RoutingTable, after: RoutingTable): TrafficDiff {
  const changed: DestinationDiff[] = []
  const oldRoutes = new Map(before.routes.map(r => [r.name, r]))
  const newRoutes = new Map(after.routes.map(r => [r.name, r]))
  for (const [name, route] of newRoutes) {
    const old = oldRoutes.get(name)
    if (old === undefined) continue
    const sticky = route.sticky !== undefined && old.sticky !== undefined
    const d = diffDestination(name, 'default', sticky, old.destination, route.destination)
    if (d !== undefined) changed.push(d)
    const oldRules = new Map(old.rules.map(r => [r.name, r]))
    for (const rule of route.rules) {
      const o = oldRules.get(rule.name)
      if (o === undefined) continue
      const rd = diffDestination(name, rule.name, sticky, o.destination, rule.destination)
      if (rd !== undefined) changed.push(rd)
    }
  }
  return {
    changed,
    routesAdded: [...newRoutes.keys()].filter(n => !oldRoutes.has(n)),
    routesRemoved: [...oldRoutes.keys()].filter(n => !newRoutes.has(n))
  }
}


