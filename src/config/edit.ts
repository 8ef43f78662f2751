/**
 * Focused edits of a config's text (set weights, promote), shared by the
 * admin API and the CLI's offline mode. They edit the YAML document in
 * place, so comments, key order and flow style survive — important when the
 * file lives in a GitOps repository. The result is validated by the caller
 * like any other config.
 */
import { isMap, parseDocument, type Document } from 'yaml'
import { SwitchyardError } from '../errors.js'
import type { RawRoute, RawSplit } from './schema.js'

interface Located { doc: Document, index: number, route: RawRoute }

function locateRoute (text: string, name: string): Located {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', `the config does not parse: ${doc.errors[0]?.message ?? ''}`)
  const routes = (doc.toJS() as { routes?: RawRoute[] } | null)?.routes ?? []
  const index = routes.findIndex(r => r.name === name)
  const route = routes[index]
  if (route === undefined) {
    throw new SwitchyardError('SY_ERR_ADMIN_UNKNOWN_ROUTE', `no route named ${JSON.stringify(name)} (routes: ${routes.map(r => r.name).join(', ')})`)
  }
  return { doc, index, route }
}

/** The route's default destination as weights: `to: x` counts as `{ x: 100 }`. */
export function currentWeights (route: RawRoute): RawSplit {
  if (route.split !== undefined) return { ...route.split }
  return route.to === undefined ? {} : { [route.to]: 100 }
}

/**
 * The weights after setting `changes`. Unlisted backends keep their weights,
 * except in the common percent case: when the weights total 100 and exactly
 * one backend is unlisted, it takes up the difference, so `canary=25` on a
 * 90/10 split gives 75/25 (as `kubectl argo rollouts set-weight` does).
 */
export function applyWeights (before: RawSplit, changes: Readonly<Record<string, number>>): RawSplit {
  const after: Record<string, number> = { ...before, ...changes }
  const unlisted = Object.keys(before).filter(b => !(b in changes))
  const total = Object.values(before).reduce((a, b) => a + b, 0)
  if (total === 100 && unlisted.length === 1) {
    const listed = Object.entries(after).filter(([b]) => b !== unlisted[0]).reduce((a, [, w]) => a + w, 0)
    if (listed <= 100) after[unlisted[0] as string] = 100 - listed
  }
  return after
}

function writeSplit (located: Located, split: RawSplit): string {
  const { doc, index } = located
  const path = ['routes', index, 'split']
  if (doc.hasIn(['routes', index, 'to'])) doc.deleteIn(['routes', index, 'to'])
  if (isMap(doc.getIn(path))) {
    for (const [backend, weight] of Object.entries(split)) doc.setIn([...path, backend], weight)
  } else {
    const node = doc.createNode(split)
    node.flow = true
    doc.setIn(path, node)
  }
  return doc.toString()
}

export interface WeightEdit {
  readonly text: string
  readonly before: RawSplit
  readonly after: RawSplit
}

export function setRouteWeights (text: string, routeName: string, changes: Readonly<Record<string, number>>): WeightEdit {
  for (const [b, w] of Object.entries(changes)) {
    if (!Number.isInteger(w) || w < 0) throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', `weight for ${b} must be a non-negative integer, got ${String(w)}`)
  }
  if (Object.keys(changes).length === 0) throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', 'no weights given')
  const located = locateRoute(text, routeName)
  const before = currentWeights(located.route)
  const after = applyWeights(before, changes)
  return { text: writeSplit(located, after), before, after }
}

/** The route's default split: 100 to `backend`, 0 to every other backend it had. */
export function promoteBackend (text: string, routeName: string, backend: string): WeightEdit {
  const located = locateRoute(text, routeName)
  const before = currentWeights(located.route)
  const after: Record<string, number> = {}
  for (const b of Object.keys(before)) after[b] = 0
  after[backend] = 100
  return { text: writeSplit(located, after), before, after }
}
