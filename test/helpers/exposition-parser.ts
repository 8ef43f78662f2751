/**
 * Reads the Prometheus text format (what GET /metrics serves) back into
 * samples, so that tests assert on the text Prometheus scrapes. prom-client
 * has no parser; this one handles what the format allows in label values
 * (escaped backslash, quote and newline) and skips comments. (switchyard
 * itself reads metrics as prom-client's JSON: `ramp` uses /admin/metrics.)
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

function parseLabels (text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0 || text[eq + 1] !== '"') throw new Error(`bad labels in: ${line}`)
    const name = text.slice(i, eq)
    let value = ''
    let j = eq + 2
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        j++
        value += text[j] === 'n' ? '\n' : text[j]
      } else {
        value += text[j]
      }
    }
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
  }
  return labels
}

export function parseExposition (text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.lastIndexOf(' ')
    if (brace >= 0 && brace < space) {
      const close = line.lastIndexOf('}')
      out.push({ name: line.slice(0, brace), labels: parseLabels(line.slice(brace + 1, close), line), value: Number(line.slice(close + 2)) })
    } else {
      out.push({ name: line.slice(0, space), labels: {}, value: Number(line.slice(space + 1)) })
    }
  }
  return out
}
