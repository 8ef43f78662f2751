/**
 * What a markdown page refers to, for test/docs/links.test.ts: repository
 * paths in code, `npm run` scripts, relative links, and the anchors its
 * headings define. Pure functions over the text; the test does the IO.
 */

/** Fenced code blocks (``` or ~~~), whole. */
const FENCE = /^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm
/** Inline code spans (a span may wrap onto the next line, as in prose). */
const SPAN = /`([^`]+)`/g

/** The page's code: every fenced block and every inline span. */
export function codeOf (md: string): string[] {
  const fences = [...md.matchAll(FENCE)].map(m => m[0])
  const spans = [...md.replace(FENCE, '').matchAll(SPAN)].map(m => m[1] ?? '')
  return [...fences, ...spans]
}

/** The page's prose: code removed, so links and headings inside code are ignored. */
export function proseOf (md: string): string {
  return md.replace(FENCE, '').replace(SPAN, '')
}

/**
 * Repository paths named in code: tokens that start with one of `roots` (the
 * repository's top-level folders) followed by `/`, and are not part of a
 * longer path or URL (`/etc/switchyard/…`, `http://host/config/…`). Trailing
 * punctuation and a `:line:col` suffix are dropped.
 */
export function pathsIn (code: string, roots: readonly string[]): string[] {
  const escaped = roots.map(r => r.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const re = new RegExp(`(?<![\\w.@/:-])(?:${escaped.join('|')})/[^\\s\`'"|,;()\\]]*`, 'g')
  return [...code.matchAll(re)].map(m => m[0].replace(/(:\d+)+$/, '').replace(/[.:]+$/, ''))
}

/** Scripts a page runs: `npm run X` (options before X allowed), `npm start`, `npm test`. */
export function npmScriptsIn (md: string): string[] {
  const run = [...md.matchAll(/\bnpm\s+run(?:\s+--?[a-z][\w-]*)*\s+([\w:.-]+)/g)].map(m => m[1] ?? '')
  const short = [...md.matchAll(/\bnpm\s+(start|test)\b/g)].map(m => m[1] ?? '')
  return [...run, ...short]
}

/** Relative link targets in the prose: `[text](target)`, images too; URLs and mail links excluded. */
export function relativeLinksIn (md: string): string[] {
  return [...proseOf(md).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(m => m[1] ?? '')
    .filter(target => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens. */
export function slug (heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

/** Every anchor the page's headings define; a repeated heading gets -1, -2, … as on GitHub. */
export function anchorsOf (md: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const m of md.replace(FENCE, '').matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1] ?? '')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}
