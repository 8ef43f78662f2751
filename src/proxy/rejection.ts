/** A request switchyard answered itself, without a backend: what the listeners (metrics, logs) are told. */
import type { RejectReason } from './forward.js'
import type { RequestInfo } from './request-info.js'

export class Rejection {
  constructor (
    readonly reason: RejectReason,
    /** The status the client got. */
    readonly status: number,
    /** What the client was told, e.g. `too many header fields (limit 100)`. */
    readonly message: string,
    /** What is known of the request (a parser-refused one may have no method or path). */
    readonly request: RequestInfo,
    /** The parser's error code, e.g. HPE_INVALID_METHOD, when the parser refused it. */
    readonly cause?: string
  ) {}
}
