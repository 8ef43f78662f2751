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
