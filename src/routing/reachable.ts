import type { Backend, Destination, Route } from './types.js'

/**
 * The backends a route can send to: its default destination and every
 * rule's (weight 0 included), and their fallbacks (failover).
 */
export function reachableBackends (route: Pick<Route, 'destination' | 'rules'>, backends: readonly Backend[]): Set<Backend> {
  const out = new Set<Backend>()
  const addChain = (b: Backend): void => {
    for (let cur: Backend | undefined = b; cur !== undefined && !out.has(cur); cur = cur.fallback === undefined ? undefined : backends[cur.fallback]) out.add(cur)
  }
  const add = (d: Destination): void => {
    if (d.kind === 'to') addChain(d.backend)
    else for (const w of d.split.weights) addChain(w.backend)
  }
  add(route.destination)
  for (const rule of route.rules) add(rule.destination)
  return out
}

/**
 * Whether `table` still sends traffic of route `route` and rule `rule`
 * (`split`: the route's default) to backend `backend` with a weight above
 * 0. False when the route or rule is gone, or the backend's weight there
 * went to 0: long-lived streams on it are then drained, so that weights
 * converge (a gRPC client keeps one stream open for hours).
 */
export function stillWeighted (table: { readonly routes: readonly Route[] }, route: string, rule: string, backend: string): boolean {
  const r = table.routes.find(x => x.name === route)
  if (r === undefined) return false
  const destination = rule === 'split' ? r.destination : r.rules.find(x => x.name === rule)?.destination
  if (destination === undefined) return false
  if (destination.kind === 'to') return destination.backend.name === backend
  return destination.split.weights.some(w => w.backend.name === backend && w.weight > 0)
}
