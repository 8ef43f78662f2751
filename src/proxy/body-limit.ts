/**
 * The route's request body limit (413) for bodies without a Content-Length
 * (chunked): counted as they stream through. A declared Content-Length over
 * the limit is refused before anything is sent (server.ts); Node's parser
 * already holds a body to its declared length.
 */
import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'

/** The error the body stream fails with once the limit is passed; the exchange answers 413. */
export const BODY_TOO_LARGE = Object.assign(new Error('request body over the route\'s maxBodyBytes'), { code: 'SY_BODY_TOO_LARGE' })

class BodyLimit extends Transform {
  #left: number

  constructor (max: number) {
    super()
    this.#left = max
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#left -= chunk.length
    if (this.#left < 0) done(BODY_TOO_LARGE)
    else done(null, chunk)
  }
}

/**
 * The request body as undici reads it, failing once more than `max` bytes
 * came. The request itself is only unpiped on failure, not destroyed: the
 * exchange still answers 413 on its connection.
 */
export function limitedBody (req: IncomingMessage, max: number): Transform {
  return req.pipe(new BodyLimit(max))
}

/** A declared Content-Length over `max`. */
export function declaredTooLarge (req: IncomingMessage, max: number): boolean {
  const len = req.headers['content-length']
  return len !== undefined && Number(len) > max
}
