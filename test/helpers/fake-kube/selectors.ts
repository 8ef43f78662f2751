/**
 * Label and field selectors as the Kubernetes API server parses them
 * (k8s.io/apimachinery labels.Parse, fields.ParseSelector), for the subset
 * of fields ConfigMaps and Leases support: metadata.name, metadata.namespace.
 */

export interface Meta {
  readonly name: string
  readonly namespace: string
  readonly labels?: Readonly<Record<string, string>>
}

export type Selector = (meta: Meta) => boolean

export class SelectorError extends Error {}

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function requirements (text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current.trim())
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current.trim())
  return parts.filter(p => p !== '')
}

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?'
const VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?'

export function parseLabelSelector (text: string | null): Selector {
  if (text === null || text.trim() === '') return () => true
  const tests = requirements(text).map((r): Selector => {
    let m = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`).exec(r)
    if (m !== null) {
      const [, key = '', , op, value = ''] = m
      return meta => op === '!=' ? meta.labels?.[key] !== value : meta.labels?.[key] === value
    }
    m = new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^()]*)\\)$`).exec(r)
    if (m !== null) {
      const [, key = '', , op, list = ''] = m
      const values = new Set(list.split(',').map(v => v.trim()))
      return meta => {
        const v = meta.labels?.[key]
        return op === 'in' ? v !== undefined && values.has(v) : v === undefined || !values.has(v)
      }
    }
    m = new RegExp(`^(!?)(${KEY})$`).exec(r)
    if (m !== null) {
      const [, not, key = ''] = m
      return meta => (meta.labels?.[key] !== undefined) !== (not === '!')
    }
    throw new SelectorError(`unable to parse requirement: ${r}`)
  })
  return meta => tests.every(test => test(meta))
}

export function parseFieldSelector (text: string | null): Selector {
  if (text === null || text.trim() === '') return () => true
  const tests = text.split(',').map((r): Selector => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(r.trim())
    if (m === null) throw new SelectorError(`invalid selector: '${r}'; can't understand '${r}'`)
    const [, field = '', op, value = ''] = m
    const read = field === 'metadata.name' ? (meta: Meta) => meta.name : field === 'metadata.namespace' ? (meta: Meta) => meta.namespace : undefined
    if (read === undefined) throw new SelectorError(`field label not supported: ${field}`)
    return meta => (read(meta) === value) === (op !== '!=')
  })
  return meta => tests.every(test => test(meta))
}
