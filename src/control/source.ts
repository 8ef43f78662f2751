/**
 * A config source: where the routing document lives and how it changes.
 * The control plane reads, watches and writes it only through this
 * interface, so a new kind of source (etcd, the Kubernetes API) is a new
 * folder under src/control/sources/ and nothing else (see sources/open.ts).
 *
 * Writes are compare-and-swap: a write names the content it expects to
 * replace, and fails when the source holds something else (a hand edit of
 * the file, another replica's write), so nobody's change is lost silently.
 */
import type { ConfigProblem } from '../errors.js'
import type { HistoryStore } from './history.js'

/** The document as read, or why it could not be. */
export type SourceRead =
  | { readonly ok: true, readonly text: string, readonly sha256: string }
  | { readonly ok: false, readonly problems: readonly ConfigProblem[] }

export interface SourceWatch {
  close (): Promise<void>
}

export interface ConfigSource {
  /** Where the document is, for status and logs: a file path, an etcd or Kubernetes URL. */
  readonly location: string
  /** How a config given as an object is written (a `.json` file stays JSON). */
  readonly format: 'yaml' | 'json'
  /** Where this source keeps its revision history. */
  readonly history: HistoryStore
  /** Reads the document. Never throws: a failure is a located problem. */
  read (): Promise<SourceRead>
  /** Calls `onChange` (debounced) whenever the document may have changed; the caller reads it. Resolves once watching. */
  watch (onChange: () => void): Promise<SourceWatch>
  /**
   * Replaces the document with `text` if it still holds the content whose
   * sha256 is `expected`; `undefined` replaces whatever it holds (force).
   * Throws a coded error when it holds something else or cannot be written.
   */
  write (text: string, expected: string | undefined): Promise<void>
}
