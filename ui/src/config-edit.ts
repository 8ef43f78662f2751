/**
 * The candidate config of a weight change, for POST /admin/diff's preview:
 * the running config (GET /admin/config as JSON) with one route's default
 * destination replaced by the split the form holds, exactly as
 * PUT /admin/routes/{route}/weights writes it when every backend is given
 * (`to: x` becomes a split). Pure: unit-tested in test/ui/.
 */
import type { ConfigJson } from './types.js'

export function withRouteWeights (config: ConfigJson, route: string, weights: Readonly<Record<string, number>>): ConfigJson {
  const routes = config.routes ?? []
  if (!routes.some(r => r.name === route)) throw new Error(`no route named ${route}`)
  return {
    ...config,
    routes: routes.map(r => {
      if (r.name !== route) return r
      const { to: _to, split: _split, ...rest } = r
      return { ...rest, split: { ...weights } }
    })
  }
}

/** The route's default destination as weights (`to: x` is `{ x: 100 }`), in the config's order. */
export function defaultWeights (d: { readonly to?: string, readonly weights?: Readonly<Record<string, number>> }): Record<string, number> {
  if (d.weights !== undefined) return { ...d.weights }
  return d.to === undefined ? {} : { [d.to]: 100 }
}
