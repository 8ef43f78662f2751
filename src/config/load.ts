/**
 * Reading and parsing a config file (the only IO of the config layer).
 * YAML 1.2 is a superset of JSON, so one parser reads both; it also keeps
 * source positions, so that every problem can point at a line and column.
 */
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml'
import type { ConfigProblem } from '../errors.js'

/** A parsed source text: the plain value plus what is needed to locate paths in it. */
export interface ParsedSource {
  readonly value: unknown
  readonly text: string
  readonly sha256: string
  /** Maps a path (`['routes', 0, 'split']`) to a 1-based line/column, when known. */
  locate (path: readonly (string | number)[]): { line: number, column: number } | undefined
}

export function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Parses YAML or JSON text. Returns the parse problems instead of throwing. */
export function parseSource (text: string): { source?: ParsedSource, problems: ConfigProblem[] } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): ConfigProblem => {
      const pos = lineCounter.linePos(e.pos[0])
      return { code: 'SY_ERR_CONFIG_PARSE', path: '', message: firstLine(e.message), line: pos.line, column: pos.col }
    })
    return { problems }
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    return { problems: [{ code: 'SY_ERR_CONFIG_PARSE', path: '', message: (err as Error).message }] }
  }
  const source: ParsedSource = {
    value,
    text,
    sha256: sha256(text),
    locate: (path) => locate(doc, lineCounter, path)
  }
  return { source, problems: [] }
}

/** Reads and parses a file; a read error is reported as a problem, never thrown. */
export async function readSource (file: string): Promise<{ source?: ParsedSource, problems: ConfigProblem[] }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { problems: [{ code: 'SY_ERR_CONFIG_READ', path: '', message: `cannot read ${file}: ${e.code ?? e.message}` }] }
  }
  return parseSource(text)
}

function firstLine (s: string): string {
  const i = s.indexOf('\n')
  return i === -1 ? s : s.slice(0, i)
}

/**
 * The position of the node at `path`; for a path whose last key is absent
 * (an unknown or missing field is reported on its parent), the closest
 * existing ancestor. A key's own position is preferred to its value's, so
 * that `splt:` points at the typo.
 */
function locate (doc: Document, lc: LineCounter, path: readonly (string | number)[]): { line: number, column: number } | undefined {
  let node: unknown = doc.contents
  let offset: number | undefined = rangeStart(node)
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find(p => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key))
      if (pair === undefined) break
      offset = rangeStart(pair.key) ?? offset
      node = pair.value
    } else if (node !== null && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown }).items)) {
      const item = (node as { items: unknown[] }).items[Number(key)]
      if (item === undefined) break
      offset = rangeStart(item) ?? offset
      node = item
    } else {
      break
    }
  }
  if (offset === undefined) return undefined
  const pos = lc.linePos(offset)
  return { line: pos.line, column: pos.col }
}

function rangeStart (node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range
  return range === undefined || range === null ? undefined : range[0]
}
