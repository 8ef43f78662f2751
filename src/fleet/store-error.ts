/** Errors a store call rejects with: coded (src/errors.ts), never HTTP-shaped. */
import type { ErrorCode } from '../errors.js'
import { describe } from './sync-tracker.js'

export class StoreError extends Error {
  constructor (readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
  }
}

/** The store could not be reached for `what`; the replica keeps its last revision. */
export function unavailable (store: string, what: string, cause: unknown): StoreError {
  return new StoreError('SY_ERR_STORE_UNAVAILABLE', `${store}: cannot ${what}: ${describe(cause)}`, { cause })
}
