/** Human-readable output of the admin commands (the API's JSON is printed as-is with --json). */
import type { DestinationDiff, TrafficDiff } from '../routing/traffic-diff.js'
import type { Explanation } from '../routing/explain.js'
import type { FleetStatus } from '../admin/status.js'

export interface ChangeReply { revision: number, sha256: string, changed: boolean, summary: string }

interface Weights { to?: string, weights?: Record<string, number>, percent: Record<string, number> }

export interface StatusReply {
  revision: number
  sha256: string
  loadedAt: string
  source: string
  configFile: string
  lastReloadError: null | { at: string, source: string, problems: Array<{ text: string }> }
  pendingRestart: string[]
  routes: Array<{ name: string, default: Weights, rules: Array<{ name: string } & Weights>, sticky: Record<string, string> | null, timeout: string }>
  backends: Array<{ name: string, version: string, targets: Array<{ url: string, inFlight: number, health: string }> }>
  /** With `serve --store` only. */
  store?: FleetStatus['store']
  leader?: FleetStatus['leader']
  replicas?: FleetStatus['replicas']
}

/** The store's state and the live replicas (`serve --store`). */
function fleetLines (s: StatusReply): string[] {
  if (s.store === undefined) return []
  const st = s.store
  const sync = st.lastSyncAt === null ? 'never synced' : `last sync ${st.lastSyncAt} (${Math.round(st.lastSyncAgeSeconds ?? 0)} s ago)`
  const lines = [`store    ${st.location}  ${st.connected ? 'connected' : `STALE: out of reach (${st.error ?? 'unknown'}), serving the last good revision`}; ${sync}`]
  if (st.startedFromLocalCopy !== null) lines.push(`         started from revision ${st.startedFromLocalCopy.revision} saved locally at ${st.startedFromLocalCopy.savedAt}`)
  lines.push('', `replicas (leader ${s.leader ?? 'none'})`)
  if (s.replicas === null || s.replicas === undefined) lines.push('  unknown: the store cannot be asked')
  else for (const r of s.replicas) lines.push(`  ${(r.id + (r.self ? ' *' : '')).padEnd(28)} revision ${String(r.revision).padEnd(6)} synced ${r.syncedAt}  ${r.adminUrl}`)
  return lines
}

export interface HistoryReply {
  revision: number
  entries: Array<{ revision: number, time: string, source: string, summary: string, current: boolean }>
}

export type DiffReply = TrafficDiff & { revision: number | null, summary: string }
export type ExplainReply = Explanation & { revision: number | null }

function weights (w: Weights): string {
  if (w.to !== undefined) return `→ ${w.to}`
  return 'split ' + Object.entries(w.percent).map(([b, p]) => `${b} ${p} %`).join(', ')
}

export function formatStatus (s: StatusReply): string {
  const lines = [
    `revision ${s.revision} (${s.source}, ${s.loadedAt})  sha256 ${s.sha256.slice(0, 12)}`,
    `config   ${s.configFile}`
  ]
  if (s.lastReloadError === null) {
    lines.push('last reload: ok')
  } else {
    lines.push(`last reload FAILED (${s.lastReloadError.source}, ${s.lastReloadError.at}); still serving revision ${s.revision}:`)
    for (const p of s.lastReloadError.problems) lines.push(`  ${p.text}`)
  }
  if (s.pendingRestart.length > 0) lines.push(`pending restart: ${s.pendingRestart.join(', ')} changed; still as at start until switchyard restarts`)
  lines.push(...fleetLines(s))
  for (const r of s.routes) {
    const sticky = r.sticky === null ? '' : `  sticky ${Object.entries(r.sticky).map(([k, v]) => `${k} ${v}`).join('')}`
    lines.push('', `route ${r.name}  (timeout ${r.timeout})${sticky}`)
    for (const rule of r.rules) lines.push(`  rule ${rule.name.padEnd(16)} ${weights(rule)}`)
    lines.push(`  ${'default'.padEnd(21)} ${weights(r.default)}`)
  }
  lines.push('', 'backends')
  for (const b of s.backends) {
    lines.push(`  ${b.name} (version ${b.version})`)
    for (const t of b.targets) lines.push(`    ${t.url}  health ${t.health}, ${t.inFlight} in flight`)
  }
  return lines.join('\n')
}

export function formatHistory (h: HistoryReply): string {
  const lines = ['REVISION  TIME                      SOURCE  CHANGE']
  for (const e of h.entries) {
    lines.push(`${(String(e.revision) + (e.current ? '*' : '')).padEnd(9)} ${e.time.padEnd(25)} ${e.source.padEnd(7)} ${e.summary}`)
  }
  return lines.join('\n')
}

function describeMove (d: DestinationDiff): string[] {
  const where = d.part === 'default' ? d.route : `${d.route} (rule ${d.part})`
  if (d.sticky) {
    return d.moves.map(m => `${where}: ${m.percent.toFixed(1)} % of users move ${m.from} → ${m.to}`)
  }
  const shares = Object.entries(d.shares).filter(([, s]) => s.before !== s.after).map(([b, s]) => `${b} ${s.before} % → ${s.after} %`)
  return [`${where}: share of requests ${shares.join(', ')}`]
}

/** `against`: what the candidate is compared with, when not the running revision (a config file). */
export function formatDiff (d: DiffReply, against = `running revision ${d.revision ?? '?'}`): string {
  const lines = [`against ${against}: ${d.summary}`]
  for (const r of d.routesAdded) lines.push(`route ${r}: added`)
  for (const r of d.routesRemoved) lines.push(`route ${r}: removed (its requests go to the next matching route or 404)`)
  for (const c of d.changed) lines.push(...describeMove(c))
  if (d.changed.length === 0 && d.routesAdded.length === 0 && d.routesRemoved.length === 0) lines.push('no traffic moves')
  return lines.join('\n')
}

export function formatExplain (e: ExplainReply): string {
  const lines: string[] = []
  lines.push(`route    ${e.route ?? '(none: 404)'}`)
  if (e.route !== null) {
    const tried = e.rulesTried.map(r => `${r.name}${r.matched ? ' ✓' : ' ✗'}`).join(', ')
    lines.push(`rules    ${tried === '' ? '(none)' : tried}`)
    lines.push(`decided  ${e.rule === 'split' ? 'route default' : `rule ${e.rule ?? ''}`}`)
    lines.push(`backend  ${e.backend === null ? '(by chance, see below)' : `${e.backend} (version ${e.version ?? '?'})`}`)
  }
  lines.push(`why      ${e.reason}`)
  return lines.join('\n')
}
