/** How the console writes numbers, times and requests. Pure: unit-tested in test/ui/. */

const DASH = '–'

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x)

/** A percentage the API already gives in percent: 12.5 → "12.5 %". */
export function fmtPercent (p: number | null | undefined): string {
  if (!finite(p)) return DASH
  return `${Number(p.toFixed(p !== 0 && Math.abs(p) < 1 ? 2 : 1))} %`
}

/** A share 0…1 as a percentage: 0.0123 → "1.23 %". */
export function fmtShare (x: number | null | undefined): string {
  return finite(x) ? fmtPercent(100 * x) : DASH
}

/** Requests per second: "0", "0.4/s", "12/s", "1.3k/s". */
export function fmtRate (r: number | null | undefined): string {
  if (!finite(r)) return DASH
  if (r === 0) return '0/s'
  if (r < 10) return `${Number(r.toFixed(r < 0.1 ? 2 : 1))}/s`
  if (r < 1000) return `${Math.round(r)}/s`
  return `${Number((r / 1000).toFixed(1))}k/s`
}

/** A duration in seconds: "850 µs", "3.2 ms", "120 ms", "1.25 s". */
export function fmtSeconds (s: number | null | undefined): string {
  if (!finite(s)) return DASH
  if (s === 0) return '0'
  if (s < 0.001) return `${Math.round(s * 1e6)} µs`
  if (s < 0.01) return `${Number((s * 1000).toFixed(1))} ms`
  if (s < 1) return `${Math.round(s * 1000)} ms`
  return `${Number(s.toFixed(2))} s`
}

/** A count with thousands separated: 1234567 → "1 234 567". */
export function fmtCount (n: number | null | undefined): string {
  if (!finite(n)) return DASH
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')
}

/** How long ago, coarsely: "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function fmtAgo (iso: string, now: number): string {
  const s = Math.round((now - Date.parse(iso)) / 1000)
  if (!Number.isFinite(s)) return DASH
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

/** The last number of a column that is not null, or null. */
export function latest (values: ReadonlyArray<number | null>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i]
    if (finite(v)) return v
  }
  return null
}

/** A route's `match` in one line: `host shop.example.com, path prefix /api, methods GET POST`. */
export function describeMatch (match: Readonly<Record<string, unknown>>): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(match)) {
    if (typeof value === 'string' || typeof value === 'number') parts.push(`${key} ${value}`)
    else if (Array.isArray(value)) parts.push(`${key} ${value.join(' ')}`)
    else if (value !== null && typeof value === 'object') parts.push(`${key} ${Object.entries(value).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`)
  }
  return parts.length === 0 ? 'every request' : parts.join(', ')
}

/** `Name: value` lines → headers (names lower-cased); lines without a colon are reported. */
export function parseHeaderLines (text: string): { headers: Record<string, string>, bad: string[] } {
  const headers: Record<string, string> = {}
  const bad: string[] = []
  for (const line of text.split('\n').map(l => l.trim()).filter(l => l !== '')) {
    const i = line.indexOf(':')
    if (i <= 0) bad.push(line)
    else headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return { headers, bad }
}

/** `name=value` pairs, one a line or `; `-separated as in a Cookie header → cookies. */
export function parseCookieLines (text: string): { cookies: Record<string, string>, bad: string[] } {
  const cookies: Record<string, string> = {}
  const bad: string[] = []
  for (const pair of text.split(/[\n;]/).map(l => l.trim()).filter(l => l !== '')) {
    const i = pair.indexOf('=')
    if (i <= 0) bad.push(pair)
    else cookies[pair.slice(0, i).trim()] = pair.slice(i + 1).trim()
  }
  return { cookies, bad }
}

/** Weights → percent of the total, as the admin API computes them (3 decimals). */
export function percentOf (weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return Object.fromEntries(Object.entries(weights).map(([b, w]) => [b, total === 0 ? 0 : Math.round(1e5 * w / total) / 1e3]))
}

/** A statistic or probability, three significant digits; very large or small ones in exponent form (1.8e+308, 2.1e-5). */
export function fmtStat (x: number | null | undefined): string {
  if (!finite(x)) return DASH
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(1)
  return String(Number(x.toPrecision(3)))
}
