/**
 * A readable diff of two config texts for the History page: jsdiff's line
 * diff (`diff` on npm, the Myers algorithm), numbered like `diff -u` and
 * with long unchanged runs folded to a few lines of context. Pure:
 * unit-tested in test/ui/.
 */
import { diffLines } from 'diff'

export type Row =
  | { readonly kind: 'same' | 'add' | 'del', readonly oldNo: number | null, readonly newNo: number | null, readonly text: string }
  | { readonly kind: 'fold', readonly count: number }

export function diffRows (before: string, after: string, context = 3): Row[] {
  const rows: Row[] = []
  let oldNo = 1
  let newNo = 1
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n')
    for (const text of lines) {
      if (part.added === true) rows.push({ kind: 'add', oldNo: null, newNo: newNo++, text })
      else if (part.removed === true) rows.push({ kind: 'del', oldNo: oldNo++, newNo: null, text })
      else rows.push({ kind: 'same', oldNo: oldNo++, newNo: newNo++, text })
    }
  }
  return fold(rows, context)
}

/** Keeps `context` unchanged lines around each change; longer unchanged runs become one `fold` row. */
function fold (rows: Row[], context: number): Row[] {
  const near = rows.map(() => false)
  rows.forEach((r, i) => {
    if (r.kind === 'same') return
    for (let j = Math.max(0, i - context); j <= Math.min(rows.length - 1, i + context); j++) near[j] = true
  })
  const out: Row[] = []
  let hidden = 0
  rows.forEach((r, i) => {
    if (r.kind !== 'same' || near[i] === true) {
      if (hidden > 0) out.push({ kind: 'fold', count: hidden })
      hidden = 0
      out.push(r)
    } else {
      hidden++
    }
  })
  if (hidden > 0) out.push({ kind: 'fold', count: hidden })
  return out
}
