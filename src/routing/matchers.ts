/**
 * Builders that turn config conditions into predicates, once, at compile
 * time: header names are lowercased, regexes compiled, `in` lists turned
 * into sets. The predicates do no parsing and no allocation.
 */
import type { RawStringMatch } from '../config/schema.js'
import type { Predicate, RequestView } from './types.js'

export type ValueTest = (value: string | undefined) => boolean

/** One operator on one value; the schema guarantees exactly one is set. */
export function compileStringMatch (m: RawStringMatch): ValueTest {
  if (m.exact !== undefined) {
    const s = m.exact
    return v => v === s
  }
  if (m.prefix !== undefined) {
    const s = m.prefix
    return v => v !== undefined && v.startsWith(s)
  }
  if (m.suffix !== undefined) {
    const s = m.suffix
    return v => v !== undefined && v.endsWith(s)
  }
  if (m.regex !== undefined) {
    // Search semantics, as nginx's `~`: anchor with ^…$ for a full match.
    const re = new RegExp(m.regex)
    return v => v !== undefined && re.test(v)
  }
  if (m.in !== undefined) {
    const set = new Set(m.in)
    return v => v !== undefined && set.has(v)
  }
  if (m.present !== undefined) {
    const want = m.present
    return v => (v !== undefined) === want
  }
  throw new RangeError('string match without an operator')
}

export type ValueSource = 'header' | 'cookie' | 'query'

export function compileCondition (source: ValueSource, key: string, m: RawStringMatch): Predicate {
  const test = compileStringMatch(m)
  switch (source) {
    case 'header': {
      const name = key.toLowerCase()
      return req => test(req.header(name))
    }
    case 'cookie':
      return req => test(req.cookie(key))
    case 'query':
      return req => test(req.query(key))
  }
}

/** All predicates must hold; specialised for the common small counts. */
export function allOf (preds: readonly Predicate[]): Predicate {
  const [a, b, c] = preds
  switch (preds.length) {
    case 0: return () => true
    case 1: return a as Predicate
    case 2: return req => (a as Predicate)(req) && (b as Predicate)(req)
    case 3: return req => (a as Predicate)(req) && (b as Predicate)(req) && (c as Predicate)(req)
    default: return (req: RequestView) => {
      for (let i = 0; i < preds.length; i++) if (!(preds[i] as Predicate)(req)) return false
      return true
    }
  }
}

/** Host patterns: exact names and `*.example.com` (any deeper name; not example.com itself). */
export function compileHostMatch (patterns: readonly string[]): Predicate {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const p of patterns) {
    const lower = p.toLowerCase()
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1))
    else exact.add(lower)
  }
  return req => {
    const host = req.host
    if (exact.has(host)) return true
    for (let i = 0; i < suffixes.length; i++) {
      const s = suffixes[i] as string
      if (host.length > s.length && host.endsWith(s)) return true
    }
    return false
  }
}

export function compilePathMatch (m: { prefix?: string, exact?: string, regex?: string }): Predicate {
  if (m.exact !== undefined) {
    const s = m.exact
    return req => req.path === s
  }
  if (m.prefix !== undefined) {
    const s = m.prefix
    if (s === '/') return () => true
    return req => req.path.startsWith(s)
  }
  if (m.regex !== undefined) {
    const re = new RegExp(m.regex)
    return req => re.test(req.path)
  }
  throw new RangeError('path match without an operator')
}

export function compileMethodMatch (methods: readonly string[]): Predicate {
  const set = new Set(methods.map(m => m.toUpperCase()))
  return req => set.has(req.method)
}
