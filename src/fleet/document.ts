/**
 * What both stores keep beside the routing text: the switchyard revision and
 * the sha256 of the text it was written with. A text whose hash differs from
 * the recorded one was edited outside switchyard (StoredConfig.external).
 */
import { createHash } from 'node:crypto'
import type { HistoryEntry, StoredConfig } from './store.js'

export interface DocumentMeta {
  readonly revision: number
  readonly sha256: string
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Parses recorded meta; anything unreadable counts as never written by switchyard. */
export function parseMeta (json: string | undefined): DocumentMeta | undefined {
  if (json === undefined) return undefined
  try {
    const m = JSON.parse(json) as Partial<DocumentMeta>
    if (Number.isSafeInteger(m.revision) && (m.revision ?? -1) >= 0 && typeof m.sha256 === 'string') return { revision: m.revision ?? 0, sha256: m.sha256 }
  } catch {
    // fall through
  }
  return undefined
}

export function storedConfig (text: string, meta: DocumentMeta | undefined): StoredConfig {
  const hash = sha256(text)
  return { text, revision: meta?.revision ?? 0, sha256: hash, external: meta?.sha256 !== hash }
}

export const sameDocument = (a: StoredConfig | undefined, b: StoredConfig | undefined): boolean =>
  a?.revision === b?.revision && a?.sha256 === b?.sha256 && a?.external === b?.external

/** A history entry read back from a store, or undefined when it is not one. */
export function parseHistoryEntry (value: unknown): HistoryEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const e = value as Record<string, unknown>
  const strings = ['time', 'source', 'summary', 'sha256', 'config'] as const
  if (!Number.isSafeInteger(e.revision) || strings.some(k => typeof e[k] !== 'string')) return undefined
  return { revision: e.revision as number, time: e.time as string, source: e.source as string, summary: e.summary as string, sha256: e.sha256 as string, config: e.config as string }
}
