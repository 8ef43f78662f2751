/**
 * Reads GET /metrics back into samples (the parser is switchyard's own,
 * src/observability/exposition.ts; a real Prometheus reads the same output
 * in the e2e test), so tests assert exact values per label set.
 */
import { request } from 'undici'
import { parseExposition, type Sample } from './exposition-parser.js'

export { parseExposition, type Sample }

/** `a=1,b=2` in the order given by `keys` (or the sample's own order). */
export function labelKey (labels: Readonly<Record<string, string>>, keys: readonly string[] = Object.keys(labels)): string {
  return keys.map(k => `${k}=${labels[k] ?? ''}`).join(',')
}

function matches (s: Sample, name: string, where: Readonly<Record<string, string>>): boolean {
  if (s.name !== name) return false
  for (const [k, v] of Object.entries(where)) if (s.labels[k] !== v) return false
  return true
}

export class Scrape {
  constructor (readonly text: string, readonly samples: readonly Sample[]) {}

  /** The samples of `name` whose labels include `where`. */
  select (name: string, where: Readonly<Record<string, string>> = {}): Sample[] {
    return this.samples.filter(s => matches(s, name, where))
  }

  /** The one sample of `name` with exactly these labels; undefined when there is none. */
  value (name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
    const want = labelKey(labels, Object.keys(labels).sort())
    const hit = this.samples.find(s => s.name === name && labelKey(s.labels, Object.keys(s.labels).sort()) === want)
    return hit?.value
  }

  /** Sum over the samples of `name` whose labels include `where`. */
  sum (name: string, where: Readonly<Record<string, string>> = {}): number {
    return this.select(name, where).reduce((a, s) => a + s.value, 0)
  }

  /**
   * Every series of `name` as `{ 'route=r,backend=b,…': value }`, keyed by
   * `keys` in order: the whole set, so a test sees unexpected series too.
   */
  table (name: string, keys: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {}
    for (const s of this.select(name)) out[labelKey(s.labels, keys)] = s.value
    return out
  }

  /** Every series (name and labels) whose name starts with `prefix`. */
  seriesKeys (prefix: string): string[] {
    return this.samples.filter(s => s.name.startsWith(prefix)).map(s => `${s.name}{${labelKey(s.labels)}}`).sort()
  }
}

/** GET /metrics from an admin URL. */
export async function scrape (adminUrl: string): Promise<Scrape> {
  const res = await request(`${adminUrl}/metrics`)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}: ${text}`)
  return new Scrape(text, parseExposition(text))
}

/**
 * Scrapes until `ready(scrape)` holds, for state that changes in the
 * background (a request in flight, a reload); throws after `limitMs`.
 */
export async function scrapeUntil (adminUrl: string, ready: (m: Scrape) => boolean, limitMs = 5000): Promise<Scrape> {
  const deadline = performance.now() + limitMs
  for (;;) {
    const m = await scrape(adminUrl)
    if (ready(m)) return m
    if (performance.now() > deadline) throw new Error(`/metrics did not reach the expected state within ${limitMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
