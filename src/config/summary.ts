/**
 * A one-line, human summary of what changed between two configs, for the
 * revision history and the CLI: `testpage: canary 10→25, stable 90→75`.
 */
import type { RawConfig, RawRoute, RawSplit } from './schema.js'

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

function destination (to: string | undefined, split: RawSplit | undefined): string {
  if (to !== undefined) return `to ${to}`
  return `split ${Object.entries(split ?? {}).map(([b, w]) => `${b} ${w}`).join(', ')}`
}

function weightChanges (before: RawSplit, after: RawSplit): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])]
  return names
    .filter(n => before[n] !== after[n])
    .map(n => `${n} ${before[n] ?? 0}→${after[n] ?? 0}`)
}

function routeChanges (a: RawRoute, b: RawRoute): string[] {
  const out: string[] = []
  if (a.split !== undefined && b.split !== undefined) {
    out.push(...weightChanges(a.split, b.split))
  } else if (!same([a.to, a.split], [b.to, b.split])) {
    out.push(`${destination(a.to, a.split)} → ${destination(b.to, b.split)}`)
  }
  const rulesA = new Map((a.rules ?? []).map(r => [r.name, r]))
  const rulesB = new Map((b.rules ?? []).map(r => [r.name, r]))
  for (const [name, rule] of rulesB) {
    const old = rulesA.get(name)
    if (old === undefined) out.push(`rule ${name} added`)
    else if (old.split !== undefined && rule.split !== undefined && same(old.when, rule.when) && !same(old.split, rule.split)) {
      out.push(`rule ${name}: ${weightChanges(old.split, rule.split).join(', ')}`)
    } else if (!same(old, rule)) out.push(`rule ${name} changed`)
  }
  for (const name of rulesA.keys()) if (!rulesB.has(name)) out.push(`rule ${name} removed`)
  if (!same([...rulesA.keys()].filter(n => rulesB.has(n)), [...rulesB.keys()].filter(n => rulesA.has(n)))) out.push('rules reordered')
  for (const field of ['match', 'sticky', 'timeout'] as const) {
    if (!same(a[field], b[field])) out.push(`${field} changed`)
  }
  return out
}

export function summariseChange (before: RawConfig | undefined, after: RawConfig): string {
  if (before === undefined) return 'initial configuration'
  const parts: string[] = []
  const routesA = new Map(before.routes.map(r => [r.name, r]))
  const routesB = new Map(after.routes.map(r => [r.name, r]))
  for (const [name, route] of routesB) {
    const old = routesA.get(name)
    if (old === undefined) {
      parts.push(`route ${name} added`)
      continue
    }
    const changes = routeChanges(old, route)
    if (changes.length > 0) parts.push(`${name}: ${changes.join(', ')}`)
  }
  for (const name of routesA.keys()) if (!routesB.has(name)) parts.push(`route ${name} removed`)
  if (!same(before.routes.map(r => r.name).filter(n => routesB.has(n)), after.routes.map(r => r.name).filter(n => routesA.has(n)))) parts.push('routes reordered')
  for (const [name, backend] of Object.entries(after.backends)) {
    const old = before.backends[name]
    if (old === undefined) parts.push(`backend ${name} added`)
    else if (!same(old, backend)) parts.push(`backend ${name} changed`)
  }
  for (const name of Object.keys(before.backends)) if (after.backends[name] === undefined) parts.push(`backend ${name} removed`)
  for (const field of ['listen', 'admin', 'log', 'proxy', 'revisionHistoryLimit'] as const) {
    if (!same(before[field], after[field])) parts.push(`${field} changed`)
  }
  return parts.length === 0 ? 'no routing change' : parts.join('; ')
}
