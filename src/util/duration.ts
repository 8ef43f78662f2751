/**
 * Durations in the config use one format everywhere, the one of Go,
 * Kubernetes and Istio: `500ms`, `30s`, `1m30s`, `2h`. The schema checks the
 * shape (DURATION_PATTERN); this turns it into milliseconds.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g

export function parseDuration (text: string): number {
  let total = 0
  let consumed = 0
  for (const m of text.matchAll(PART)) {
    if (m.index !== consumed) break
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN)
    consumed += m[0].length
  }
  if (consumed !== text.length || consumed === 0 || !Number.isFinite(total)) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s, 1m30s`)
  }
  return Math.round(total)
}

/** The reverse, for messages and status output: 1500 → `1.5s`. */
export function formatDuration (ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms >= 1000) return `${ms / 1000}s`
  return `${ms}ms`
}
