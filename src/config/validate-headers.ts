/**
 * Checks on header rules (`routes[].headers`, `backends.*.headers`), the
 * request ID header and `stripPrefix` that the schema cannot express: a rule
 * must not touch a header that carries HTTP framing or the connection
 * (switchyard or Node manage those; changing them would corrupt the
 * exchange), and one block must not name a header twice.
 */
import { items, mapping, text, type Loose } from './loose.js'
import type { ErrorCode } from '../errors.js'

type Path = readonly (string | number)[]

export interface ProblemSink {
  add (code: ErrorCode, path: Path, message: string): void
}

/** Hop-by-hop (RFC 9110 §7.6.1) and framing headers: never set by a rule, in either direction. */
const FRAMING = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length'])
/** Request-only: the client's expectations of this hop, and the HTTP/2 upgrade header. */
const REQUEST_ONLY = new Set(['expect', 'http2-settings'])

function refusal (direction: 'request' | 'response', op: 'set' | 'add' | 'remove', name: string): string | undefined {
  if (FRAMING.has(name)) return `${JSON.stringify(name)} is hop-by-hop or framing; switchyard manages it on each connection`
  if (direction === 'request' && REQUEST_ONLY.has(name)) return `${JSON.stringify(name)} concerns only the client's connection`
  // Replacing Host is how a virtual-hosted backend is reached (nginx `proxy_set_header Host`); removing or doubling it breaks HTTP/1.1.
  if (direction === 'request' && name === 'host' && op !== 'set') return `"host" can only be \`set\` (HTTP/1.1 needs exactly one)`
  return undefined
}

function checkChanges (problems: ProblemSink, path: Path, direction: 'request' | 'response', changes: Loose): void {
  const seen = new Map<string, string>()
  const named = (op: 'set' | 'add' | 'remove', name: string, at: Path): void => {
    const lower = name.toLowerCase()
    const why = refusal(direction, op, lower)
    if (why !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', at, why)
    const before = seen.get(lower)
    if (before !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', at, `${JSON.stringify(lower)} is already named in \`${before}\`; name each header once per direction`)
    else seen.set(lower, op)
  }
  for (const name of Object.keys(mapping(changes.set) ?? {})) named('set', name, [...path, 'set', name])
  for (const name of Object.keys(mapping(changes.add) ?? {})) named('add', name, [...path, 'add', name])
  items(changes.remove).forEach((name, i) => { if (typeof name === 'string') named('remove', name, [...path, 'remove', i]) })
}

/** Header rules (`routes[].headers`, `backends.*.headers`); parts of another shape are the schema's problem. */
export function checkHeaderRules (problems: ProblemSink, path: Path, value: unknown): void {
  const rules = mapping(value)
  const request = mapping(rules?.request)
  const response = mapping(rules?.response)
  if (request !== undefined) checkChanges(problems, [...path, 'request'], 'request', request)
  if (response !== undefined) checkChanges(problems, [...path, 'response'], 'response', response)
}

/** A `stripPrefix` that the route's own path prefix does not start with would never apply. */
export function checkStripPrefix (problems: ProblemSink, path: Path, route: Loose): void {
  const strip = text(route.stripPrefix)
  const prefix = text(mapping(mapping(route.match)?.path)?.prefix)
  if (strip === undefined || prefix === undefined) return
  if (prefix === strip || prefix.startsWith(strip + '/')) return
  problems.add('SY_ERR_CONFIG_REWRITE', [...path, 'stripPrefix'], `${JSON.stringify(strip)} is not a leading segment of the route's path prefix ${JSON.stringify(prefix)}: it would never be stripped`)
}

export function checkRequestIdHeader (problems: ProblemSink, config: Loose): void {
  const name = text(mapping(mapping(config.proxy)?.requestId)?.header)?.toLowerCase()
  if (name === undefined) return
  const why = FRAMING.has(name) || REQUEST_ONLY.has(name) || name === 'host' ? `${JSON.stringify(name)} cannot carry a request ID` : undefined
  if (why !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', ['proxy', 'requestId', 'header'], why)
}
