/**
 * decide(): request → route, rule, backend. Pure: no IO, no clock, no
 * Math.random (randomness comes in through `entropy`), so it is tested
 * without sockets and benchmarked alone (bench/decide.bench.ts).
 */
import { pickRandom, pickSticky } from './weighted.js'
import type { Decision, Destination, Entropy, RequestView, Route, RoutingTable } from './types.js'

/** The first route whose host, path and method all match. */
export function findRoute (table: RoutingTable, req: RequestView): Route | undefined {
  const routes = table.routes
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i] as Route
    if (route.matches === undefined || route.matches(req)) return route
  }
  return undefined
}

/** The first rule of `route` whose conditions all hold; its name and destination. */
export function decideInRoute (route: Route, req: RequestView, entropy: Entropy): Decision {
  const rules = route.rules
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    if (rule.matches(req)) return resolve(route, rule.name, rule.destination, req, entropy)
  }
  return resolve(route, 'split', route.destination, req, entropy)
}

/** Routes a request; undefined when no route matches (the proxy answers 404). */
export function decide (table: RoutingTable, req: RequestView, entropy: Entropy): Decision | undefined {
  const route = findRoute(table, req)
  return route === undefined ? undefined : decideInRoute(route, req, entropy)
}

function resolve (route: Route, rule: string, dest: Destination, req: RequestView, entropy: Entropy): Decision {
  if (dest.kind === 'to') return { route, rule, backend: dest.backend, setStickyId: undefined }
  const table = dest.split.table
  const sticky = route.sticky
  if (sticky === undefined) return { route, rule, backend: pickRandom(table, entropy.random()), setStickyId: undefined }
  let key = sticky.source === 'cookie' ? req.cookie(sticky.name) : req.header(sticky.name)
  let setStickyId: string | undefined
  if (key === undefined || key === '') {
    // No key: a cookie-keyed route assigns the user an id now (and the proxy
    // sets the cookie); a header-keyed one cannot, so the request is split at random.
    if (sticky.source === 'header') return { route, rule, backend: pickRandom(table, entropy.random()), setStickyId: undefined }
    key = setStickyId = entropy.newId()
  }
  return { route, rule, backend: pickSticky(table, key), setStickyId }
}
