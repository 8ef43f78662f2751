/**
 * Config validation: the schema (ajv) first, then the checks a schema cannot
 * express (references between sections, regexes, URLs). Returns every
 * problem with its location instead of stopping at the first.
 */
import type { ErrorObject } from 'ajv'
import { serialize as serializeCookie } from 'cookie'
import safeRegex from 'safe-regex2'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from './defaults.js'
import { validateConfig as generatedValidateConfig } from './generated/config-validator.js'
import type { RawConfig, RawSticky } from './schema.js'
import { cookieOptions } from './sticky-cookie.js'
import type { ConfigProblem, ErrorCode } from '../errors.js'
import type { ParsedSource } from './load.js'
import { checkHeaderRules, checkRequestIdHeader, checkStripPrefix } from './validate-headers.js'
import { items, mapping, text, type Loose } from './loose.js'

type Path = readonly (string | number)[]

/** The shape of an ajv validation function (here compiled ahead of time, see build/generate-validators.ts). */
export interface CompiledValidator<T> {
  (data: unknown): data is T
  errors?: ErrorObject[] | null
}

const checkSchema = generatedValidateConfig as CompiledValidator<RawConfig>

/** `['routes', 0, 'split', 'canary']` → `routes[0].split.canary`. */
export function formatPath (path: Path): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

function pointerToPath (pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(s => {
    const k = s.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^(0|[1-9][0-9]*)$/.test(k) ? Number(k) : k
  })
}

class Problems {
  readonly list: ConfigProblem[] = []
  constructor (private readonly source: ParsedSource | undefined) {}

  add (code: ErrorCode, path: Path, message: string): void {
    const pos = this.source?.locate(path)
    this.list.push(pos === undefined
      ? { code, path: formatPath(path), message }
      : { code, path: formatPath(path), message, line: pos.line, column: pos.column })
  }
}

/** Turns ajv's errors into one readable problem each, without union noise. */
function schemaProblems (errors: readonly ErrorObject[], problems: Problems): void {
  // A failed anyOf (e.g. host: string | string[]) also reports each branch's
  // failure; keep only the anyOf's own summary.
  const anyOfs = errors.filter(e => e.keyword === 'anyOf')
  const insideAnyOf = (e: ErrorObject): boolean => e.keyword !== 'anyOf' && anyOfs.some(a =>
    e.instancePath.startsWith(a.instancePath) && e.schemaPath.startsWith(a.schemaPath.replace(/\/anyOf$/, '/anyOf/')))
  const seen = new Set<string>()
  for (const e of errors) {
    if (insideAnyOf(e)) continue
    const path = pointerToPath(e.instancePath)
    const { at, message } = describe(e, path)
    const key = `${formatPath(at)}\0${message}`
    if (seen.has(key)) continue
    seen.add(key)
    problems.add('SY_ERR_CONFIG_SCHEMA', at, message)
  }
}

function describe (e: ErrorObject, path: (string | number)[]): { at: (string | number)[], message: string } {
  const params = e.params as Record<string, unknown>
  const parent = e.parentSchema as Record<string, unknown> | undefined
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      if (parent?.patternProperties !== undefined) {
        const pattern = Object.keys(parent.patternProperties as object)[0] ?? ''
        return { at: [...path, key], message: `invalid name ${JSON.stringify(key)}: must match ${pattern}` }
      }
      const known = Object.keys((parent?.properties as object | undefined) ?? {})
      return { at: [...path, key], message: `unknown field ${JSON.stringify(key)} (known: ${known.join(', ')})` }
    }
    case 'required':
      return { at: path, message: `missing required field ${JSON.stringify(params.missingProperty)}` }
    case 'minProperties':
    case 'maxProperties': {
      const props = Object.keys((parent?.properties as object | undefined) ?? {})
      if (props.length > 0 && parent?.maxProperties === 1) {
        return { at: path, message: `needs exactly one of ${props.join(', ')}` }
      }
      return { at: path, message: `must have at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}` }
    }
    case 'anyOf': {
      const branches = (e.schema as Array<Record<string, unknown>>)
      if (branches.every(b => 'const' in b)) {
        return { at: path, message: `must be one of ${branches.map(b => JSON.stringify(b.const)).join(', ')}` }
      }
      return { at: path, message: `must be ${branches.map(b => describeType(b)).join(' or ')}` }
    }
    case 'pattern': {
      const desc = parent?.description
      return { at: path, message: typeof desc === 'string' ? `must be a ${desc}` : `must match ${String(params.pattern)}` }
    }
    default:
      return { at: path, message: e.message ?? 'is invalid' }
  }
}

function describeType (schema: Record<string, unknown>): string {
  if (schema.type === 'array') return 'a list'
  if (schema.type === 'string') return 'a string'
  return String(schema.type ?? 'a value')
}

/**
 * A regex from the config: compiled once here, so a bad one is a located
 * error. It is also refused when it nests quantifiers (`(a+)+`, `(\w+\s?)*`):
 * JavaScript regexes backtrack, so such a pattern can take exponential time
 * on a crafted header, path or cookie and stall every request of the
 * process (ReDoS). Envoy and Istio avoid this with RE2; safe-regex2 (the
 * check fastify's router uses) finds the nested repetition that causes it.
 * It cannot read lookbehind, so a pattern it cannot parse is refused too.
 */
function checkRegex (problems: Problems, path: Path, source: string): void {
  try {
    new RegExp(source)
  } catch (err) {
    problems.add('SY_ERR_CONFIG_REGEX', path, `invalid regular expression: ${(err as Error).message}`)
    return
  }
  // The repetition-count limit is off: many plain `.*` are harmless; nesting is what explodes.
  if (!safeRegex(source, { limit: Infinity })) {
    problems.add('SY_ERR_CONFIG_REGEX_UNSAFE', path, `regular expression ${JSON.stringify(source)} nests quantifiers (as in (a+)+) or uses lookbehind: it could take exponential time on a crafted input; rewrite it without a quantifier inside a repeated group`)
  }
}

/** A cookie `cookie` would refuse to write (a path with `<` or non-ASCII text) must fail here, not when a user arrives. */
function checkStickyCookie (problems: Problems, path: Path, s: RawSticky): void {
  if (s.cookie === undefined && s.header !== undefined) return
  try {
    serializeCookie(s.cookie ?? 'sy_id', '', cookieOptions(s, 0))
  } catch (err) {
    problems.add('SY_ERR_CONFIG_STICKY', path, `the sticky cookie cannot be written: ${(err as Error).message}`)
  }
}

function checkStringMatch (problems: Problems, path: Path, m: Loose | undefined): void {
  const regex = text(m?.regex)
  if (regex !== undefined) checkRegex(problems, [...path, 'regex'], regex)
}

/** Which scheme a backend's protocol needs: h2c is cleartext, h2 is negotiated by TLS ALPN. */
const PROTOCOL_SCHEME: Readonly<Record<string, string>> = { h2c: 'http:', h2: 'https:' }

function checkTargetUrl (problems: Problems, path: Path, target: string, protocol: string | undefined): void {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    problems.add('SY_ERR_CONFIG_TARGET_URL', path, `not a URL: ${JSON.stringify(target)}`)
    return
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add('SY_ERR_CONFIG_TARGET_URL', path, `scheme must be http or https, not ${url.protocol.slice(0, -1)}`)
  } else if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    problems.add('SY_ERR_CONFIG_TARGET_URL', path, 'must be an origin (scheme://host:port) without a path, query or fragment')
  } else if (url.username !== '' || url.password !== '') {
    problems.add('SY_ERR_CONFIG_TARGET_URL', path, 'must not carry credentials')
  } else if (protocol !== undefined && PROTOCOL_SCHEME[protocol] !== undefined && url.protocol !== PROTOCOL_SCHEME[protocol]) {
    problems.add('SY_ERR_CONFIG_TARGET_URL', path, `protocol ${protocol} needs ${PROTOCOL_SCHEME[protocol]}// targets`)
  }
}

/** `backends` undefined: the backends section itself is broken, so references cannot be judged. */
function checkDestination (problems: Problems, path: Path, backends: Set<string> | undefined, to: string | undefined, split: Loose | undefined): void {
  if ((to === undefined) === (split === undefined)) {
    problems.add('SY_ERR_CONFIG_TARGET', path, to === undefined ? 'needs `to` or `split`' : 'has both `to` and `split`; keep one')
    return
  }
  if (backends === undefined) return
  if (to !== undefined && !backends.has(to)) {
    problems.add('SY_ERR_CONFIG_UNKNOWN_BACKEND', [...path, 'to'], `unknown backend ${JSON.stringify(to)}${suggest(to, backends)}`)
  }
  if (split !== undefined) {
    let total = 0
    for (const [name, weight] of Object.entries(split)) {
      if (typeof weight === 'number') total += weight
      if (!backends.has(name)) {
        problems.add('SY_ERR_CONFIG_UNKNOWN_BACKEND', [...path, 'split', name], `unknown backend ${JSON.stringify(name)}${suggest(name, backends)}`)
      }
    }
    if (total === 0) problems.add('SY_ERR_CONFIG_ZERO_WEIGHTS', [...path, 'split'], 'all weights are 0: at least one backend must have weight > 0')
  }
}

/** ` (did you mean "canary"?)` for a name one or two edits from a known one. */
function suggest (name: string, known: Set<string>): string {
  let best: string | undefined
  let bestDist = 3
  for (const k of known) {
    const d = editDistance(name, k)
    if (d < bestDist) { best = k; bestDist = d }
  }
  return best === undefined ? '' : ` (did you mean ${JSON.stringify(best)}?)`
}

function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length] ?? 0
}

/** `a → b → a` (or `a → a`) would send a dead backend's traffic round in a circle. */
function checkFallbackCycles (fallbacks: ReadonlyMap<string, string | undefined>, problems: Problems): void {
  const reported = new Set<string>()
  for (const start of fallbacks.keys()) {
    const chain = [start]
    let next = fallbacks.get(start)
    while (next !== undefined && fallbacks.has(next)) {
      if (chain.includes(next)) {
        const cycle = chain.slice(chain.indexOf(next))
        const key = [...cycle].sort().join(',')
        if (!reported.has(key)) {
          reported.add(key)
          problems.add('SY_ERR_CONFIG_FALLBACK_CYCLE', ['backends', next, 'fallback'], `fallbacks form a cycle: ${[...cycle, next].join(' → ')}`)
        }
        break
      }
      chain.push(next)
      next = fallbacks.get(next)
    }
  }
}

/**
 * The checks a schema cannot express. They also run on a config that broke
 * the schema (so one run reports every problem), reading each part only
 * when it has the expected shape.
 */
function semanticProblems (config: Loose, problems: Problems): void {
  const backendsSection = mapping(config.backends)
  const backends = backendsSection === undefined ? undefined : new Set(Object.keys(backendsSection))
  const fallbacks = new Map<string, string | undefined>()
  for (const [name, value] of Object.entries(backendsSection ?? {})) {
    const backend = mapping(value)
    items(backend?.targets).forEach((t, i) => { if (typeof t === 'string') checkTargetUrl(problems, ['backends', name, 'targets', i], t, text(backend?.protocol)) })
    const fallback = text(backend?.fallback)
    fallbacks.set(name, fallback)
    if (fallback !== undefined && backends !== undefined && !backends.has(fallback)) {
      problems.add('SY_ERR_CONFIG_UNKNOWN_BACKEND', ['backends', name, 'fallback'], `unknown backend ${JSON.stringify(fallback)}${suggest(fallback, backends)}`)
    }
    checkHeaderRules(problems, ['backends', name, 'headers'], backend?.headers)
  }
  checkRequestIdHeader(problems, config)
  checkFallbackCycles(fallbacks, problems)
  const routeNames = new Set<string>()
  items(config.routes).forEach((value, r) => {
    const route = mapping(value)
    if (route === undefined) return
    const at: Path = ['routes', r]
    const name = text(route.name)
    if (name !== undefined && routeNames.has(name)) problems.add('SY_ERR_CONFIG_DUPLICATE_NAME', [...at, 'name'], `route name ${JSON.stringify(name)} is used twice`)
    if (name !== undefined) routeNames.add(name)
    const pathRegex = text(mapping(mapping(route.match)?.path)?.regex)
    if (pathRegex !== undefined) checkRegex(problems, [...at, 'match', 'path', 'regex'], pathRegex)
    checkDestination(problems, at, backends, text(route.to), mapping(route.split))
    checkHeaderRules(problems, [...at, 'headers'], route.headers)
    checkStripPrefix(problems, at, route)
    const sticky = mapping(route.sticky)
    if (sticky !== undefined && (sticky.cookie === undefined) === (sticky.header === undefined)) {
      problems.add('SY_ERR_CONFIG_STICKY', [...at, 'sticky'], 'needs exactly one of `cookie` and `header`')
    } else if (sticky !== undefined) {
      checkStickyCookie(problems, [...at, 'sticky'], sticky as RawSticky)
    }
    const ruleNames = new Set<string>()
    items(route.rules).forEach((ruleValue, i) => {
      const rule = mapping(ruleValue)
      if (rule === undefined) return
      const rat: Path = [...at, 'rules', i]
      const ruleName = text(rule.name)
      if (ruleName !== undefined && (ruleNames.has(ruleName) || ruleName === 'split')) {
        problems.add('SY_ERR_CONFIG_DUPLICATE_NAME', [...rat, 'name'], ruleName === 'split'
          ? 'rule name "split" is reserved for the route default'
          : `rule name ${JSON.stringify(ruleName)} is used twice in this route`)
      }
      if (ruleName !== undefined) ruleNames.add(ruleName)
      checkDestination(problems, rat, backends, text(rule.to), mapping(rule.split))
      const w = mapping(rule.when)
      for (const kind of ['headers', 'cookies', 'query'] as const) {
        for (const [key, m] of Object.entries(mapping(w?.[kind]) ?? {})) checkStringMatch(problems, [...rat, 'when', kind, key], mapping(m))
      }
      checkStringMatch(problems, [...rat, 'when', 'userAgent'], mapping(w?.userAgent))
    })
  })
  const port = (listener: unknown, fallback: number): unknown => mapping(listener)?.port ?? fallback
  const listenPort = port(config.listen, DEFAULT_LISTEN.port)
  const adminPort = port(config.admin, DEFAULT_ADMIN.port)
  if (typeof listenPort === 'number' && listenPort !== 0 && listenPort === adminPort) {
    problems.add('SY_ERR_CONFIG_PORT', ['admin', 'port'], `the admin listener cannot share port ${listenPort} with the proxy listener`)
  }
}

/** `a` lies inside `b` or `b` inside `a` (formatted paths; the whole file '' is no one's parent here). */
function nested (a: string, b: string): boolean {
  if (a === '' || b === '' || a === b) return false
  const inside = (x: string, y: string): boolean => x.startsWith(y) && (x[y.length] === '.' || x[y.length] === '[')
  return inside(a, b) || inside(b, a)
}

export type ValidationResult =
  | { ok: true, config: RawConfig }
  | { ok: false, problems: ConfigProblem[] }

/**
 * Validates a parsed value. `source` (optional) adds line/column to each
 * problem. The value is never modified.
 */
export function validateConfig (value: unknown, source?: ParsedSource): ValidationResult {
  const problems = new Problems(source)
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.add('SY_ERR_CONFIG_SCHEMA', [], 'the config must be a mapping (backends, routes, …)')
    return { ok: false, problems: problems.list }
  }
  if (checkSchema(value)) {
    semanticProblems(value, problems)
    return problems.list.length === 0 ? { ok: true, config: value } : { ok: false, problems: problems.list }
  }
  schemaProblems(checkSchema.errors ?? [], problems)
  // The rest of the file is checked too, so that one run reports every problem; a semantic problem
  // inside or around a part that broke the schema is left out: it would only echo that problem.
  const broken = [...problems.list]
  const semantic = new Problems(source)
  semanticProblems(value as Loose, semantic)
  return { ok: false, problems: [...broken, ...semantic.list.filter(p => !broken.some(b => nested(p.path, b.path)))] }
}
