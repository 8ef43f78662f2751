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
  | {
    readonly ok: true
    readonly text: string
    readonly sha256: string
    /**
     * A fleet source's own revision number for this text (the same on every
     * replica); undefined where the control plane numbers revisions itself (a file).
     */
    readonly revision?: number
    /**
     * The text was changed outside switchyard (kubectl, etcdctl) since
     * `revision`: a valid one is adopted as the next revision by a write
     * expecting `revision`.
     */
    readonly external?: boolean
  }
  | { readonly ok: false, readonly problems: readonly ConfigProblem[] }

/** What a write expects the source to hold: the running revision. */
export interface WriteExpectation {
  readonly sha256: string
  readonly revision: number
}

/** A fleet source's answer to a write: the revision it became, and the text as every reader will read it back. */
export interface Written {
  readonly revision: number
  readonly text: string
}

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
   * Replaces the document with `text` if it still holds `expected` (a file
   * compares the content's sha256, a fleet store its revision); `undefined`
   * replaces whatever it holds (force). Throws a coded error when it holds
   * something else or cannot be written. A fleet source answers with the
   * revision it wrote; a file, with undefined (the control plane numbers it).
   */
  write (text: string, expected: WriteExpectation | undefined): Promise<Written | undefined>
}
