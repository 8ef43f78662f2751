/**
 * A fleet shares its routing, not its processes: with `serve --store`, the
 * settings of one process (where it listens, how it logs and traces, how it
 * drains) stay in its local file, and the store holds the rest (backends,
 * routes, proxy defaults, history limit). These two functions split a
 * config into the part the store keeps and put a replica's own settings
 * back in front of it, so every replica reads the shared routing with its
 * own listeners. Comments and layout of the routing part are kept.
 */
import { isMap, parseDocument, type Document } from 'yaml'

/** The top-level fields that belong to one process. */
export const PROCESS_SETTINGS = ['listen', 'admin', 'log', 'accessLog', 'tracing', 'shutdown'] as const

function mapDocument (text: string): Document | undefined {
  const doc = parseDocument(text)
  return doc.errors.length === 0 && isMap(doc.contents) ? doc : undefined
}

/** `text` without the process settings (unchanged when it is not a YAML/JSON mapping: validation will say why). */
export function routingPart (text: string): string {
  const doc = mapDocument(text)
  if (doc === undefined || !PROCESS_SETTINGS.some(k => doc.has(k))) return text
  for (const k of PROCESS_SETTINGS) doc.delete(k)
  return doc.toString()
}

/** The process settings of a local config file, as plain values; {} when it has none or does not parse. */
export function processSettings (localText: string | undefined): Readonly<Record<string, unknown>> {
  const doc = localText === undefined ? undefined : mapDocument(localText)
  if (doc === undefined) return {}
  const js = doc.toJS() as Record<string, unknown>
  return Object.fromEntries(PROCESS_SETTINGS.filter(k => js[k] !== undefined).map(k => [k, js[k]]))
}

/** The shared `routing` text with `settings` first (any process settings it carried are replaced). */
export function withProcessSettings (routing: string, settings: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(settings)
  if (keys.length === 0) return routing
  const doc = mapDocument(routing)
  if (doc === undefined || !isMap(doc.contents)) return routing
  const map = doc.contents
  for (const k of PROCESS_SETTINGS) doc.delete(k)
  map.items.unshift(...keys.map(k => doc.createPair(k, settings[k])))
  return doc.toString()
}
