/**
 * Header rules compiled into one plan per (route, backend, direction): the
 * route's changes and then the backend's, merged once here so that a
 * request only skips the names in `drop` and appends `append`.
 */
import type { RawHeaderChanges, RawHeaderRules } from '../config/schema.js'
import type { Backend, HeaderPlan } from './types.js'

interface Changes {
  /** Lowercased names of `remove` and `set`: their incoming values go. */
  readonly drop: Set<string>
  /** [lowercased name, name as written, value] of `set` then `add`. */
  readonly append: ReadonlyArray<readonly [string, string, string]>
}

function changesOf (raw: RawHeaderChanges | undefined): Changes | undefined {
  if (raw === undefined) return undefined
  const drop = new Set<string>()
  const append: Array<readonly [string, string, string]> = []
  for (const name of raw.remove ?? []) drop.add(name.toLowerCase())
  for (const [name, value] of Object.entries(raw.set ?? {})) {
    drop.add(name.toLowerCase())
    append.push([name.toLowerCase(), name, value])
  }
  for (const [name, value] of Object.entries(raw.add ?? {})) append.push([name.toLowerCase(), name, value])
  return drop.size === 0 && append.length === 0 ? undefined : { drop, append }
}

/** The route's changes followed by the backend's: what the backend removes or sets also takes away what the route added. */
function merge (route: Changes | undefined, backend: Changes | undefined): HeaderPlan | undefined {
  if (route === undefined && backend === undefined) return undefined
  const drop = new Set([...(route?.drop ?? []), ...(backend?.drop ?? [])])
  const append: string[] = []
  for (const [lower, name, value] of route?.append ?? []) {
    if (backend?.drop.has(lower) !== true) append.push(name, value)
  }
  for (const [, name, value] of backend?.append ?? []) append.push(name, value)
  return Object.freeze({
    drop,
    dropLengths: new Set([...drop].map(n => n.length)),
    append: Object.freeze(append)
  })
}

export interface RoutePlans {
  readonly request: ReadonlyArray<HeaderPlan | undefined> | undefined
  readonly response: ReadonlyArray<HeaderPlan | undefined> | undefined
}

/**
 * The plans of one route, indexed by backend index (`rules[i]` are backend
 * i's rules), for the backends it can reach; a direction is undefined when
 * neither the route nor any of those backends changes its headers, so that
 * the request path tests one field and does nothing more.
 */
export function compileRoutePlans (route: RawHeaderRules | undefined, rules: ReadonlyArray<RawHeaderRules | undefined>, reachable: ReadonlySet<Backend>): RoutePlans {
  const reach = new Set([...reachable].map(b => b.index))
  const build = (direction: 'request' | 'response'): ReadonlyArray<HeaderPlan | undefined> | undefined => {
    const own = changesOf(route?.[direction])
    const plans = rules.map((b, i) => reach.has(i) ? merge(own, changesOf(b?.[direction])) : undefined)
    return plans.every(p => p === undefined) ? undefined : Object.freeze(plans)
  }
  return { request: build('request'), response: build('response') }
}
