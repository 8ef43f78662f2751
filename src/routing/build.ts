/**
 * The config pipeline in one call: text → parse → validate → compile.
 * Each step returns located problems instead of throwing, so callers (start,
 * reload, `switchyard validate`, the admin API) report them all.
 */
import type { ConfigProblem } from '../errors.js'
import { compile } from './compile.js'
import type { RoutingTable } from './types.js'
import { parseSource, readSource, type ParsedSource } from '../config/load.js'
import { validateConfig } from '../config/validate.js'

export type BuildResult =
  | { readonly ok: true, readonly table: RoutingTable, readonly source: ParsedSource }
  | { readonly ok: false, readonly problems: readonly ConfigProblem[] }

export function buildFromSource (source: ParsedSource): BuildResult {
  const result = validateConfig(source.value, source)
  if (!result.ok) return { ok: false, problems: result.problems }
  return { ok: true, table: compile(result.config, source.sha256), source }
}

export function buildFromText (text: string): BuildResult {
  const parsed = parseSource(text)
  return parsed.source === undefined ? { ok: false, problems: parsed.problems } : buildFromSource(parsed.source)
}

export async function buildFromFile (file: string): Promise<BuildResult> {
  const parsed = await readSource(file)
  return parsed.source === undefined ? { ok: false, problems: parsed.problems } : buildFromSource(parsed.source)
}
