/**
 * Readers for a config that may have broken the schema. Semantic checks run
 * on such a config too (so one run reports every problem), reading each part
 * only when it has the expected shape; a value of another type is the
 * schema's problem, and the semantic checks pass over it.
 */
export type Loose = Readonly<Record<string, unknown>>

/** The value when it is a mapping, else undefined. */
export const mapping = (v: unknown): Loose | undefined => v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Loose : undefined
/** The value when it is a string, else undefined. */
export const text = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
/** The value when it is an array, else no items. */
export const items = (v: unknown): readonly unknown[] => Array.isArray(v) ? v : []
