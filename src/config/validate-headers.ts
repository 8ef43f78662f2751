/**
 * Checks on header rules (`routes[].headers`, `backends.*.headers`), the
 * request ID header and `stripPrefix` that the schema cannot express: a rule
 * must not touch a header that carries HTTP framing or the connection
 * (switchyard or Node manage those; changing them would corrupt the
 * exchange), and one block must not name a header twice.
 */
import type { RawConfig, RawHeaderChanges, RawHeaderRules, RawRoute } from './schema.js'
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

function checkChanges (problems: ProblemSink, path: Path, direction: 'request' | 'response', changes: RawHeaderChanges): void {
  const seen = new Map<string, string>()
  const named = (op: 'set' | 'add' | 'remove', name: string, at: Path): void => {
    const lower = name.toLowerCase()
    const why = refusal(direction, op, lower)
    if (why !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', at, why)
    const before = seen.get(lower)
    if (before !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', at, `${JSON.stringify(lower)} is already named in \`${before}\`; name each header once per direction`)
    else seen.set(lower, op)
  }
  for (const name of Object.keys(changes.set ?? {})) named('set', name, [...path, 'set', name])
  for (const name of Object.keys(changes.add ?? {})) named('add', name, [...path, 'add', name])
  changes.remove?.forEach((name, i) => named('remove', name, [...path, 'remove', i]))
}

export function checkHeaderRules (problems: ProblemSink, path: Path, rules: RawHeaderRules | undefined): void {
  if (rules?.request !== undefined) checkChanges(problems, [...path, 'request'], 'request', rules.request)
  if (rules?.response !== undefined) checkChanges(problems, [...path, 'response'], 'response', rules.response)
}

/** A `stripPrefix` that the route's own path prefix does not start with would never apply. */
export function checkStripPrefix (problems: ProblemSink, path: Path, route: RawRoute): void {
  const strip = route.stripPrefix
  const prefix = route.match?.path?.prefix
  if (strip === undefined || prefix === undefined) return
  if (prefix === strip || prefix.startsWith(strip + '/')) return
  problems.add('SY_ERR_CONFIG_REWRITE', [...path, 'stripPrefix'], `${JSON.stringify(strip)} is not a leading segment of the route's path prefix ${JSON.stringify(prefix)}: it would never be stripped`)
}

export function checkRequestIdHeader (problems: ProblemSink, config: RawConfig): void {
  const name = config.proxy?.requestId?.header?.toLowerCase()
  if (name === undefined) return
  const why = FRAMING.has(name) || REQUEST_ONLY.has(name) || name === 'host' ? `${JSON.stringify(name)} cannot carry a request ID` : undefined
  if (why !== undefined) problems.add('SY_ERR_CONFIG_REWRITE', ['proxy', 'requestId', 'header'], why)
}
