/**
 * Tracks WebSocket frame boundaries in a server → client byte stream
 * (RFC 6455 §5.2), without buffering payloads, so that switchyard can add a
 * Close frame of its own at a frame boundary when it drains — never in the
 * middle of a frame the upstream is sending.
 */
export class FrameBoundaryTracker {
  /** Payload bytes still to come in the current frame. */
  #remaining = 0
  /** Header bytes collected so far of a frame header split across chunks. */
  #header: number[] = []

  get atBoundary (): boolean {
    return this.#remaining === 0 && this.#header.length === 0
  }

  /** Feeds a chunk of the stream. */
  feed (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, chunk.length - i)
        this.#remaining -= take
        i += take
        continue
      }
      this.#header.push(chunk[i] as number)
      i++
      const need = headerLength(this.#header)
      if (need !== undefined && this.#header.length === need) {
        this.#remaining = payloadLength(this.#header)
        this.#header = []
      }
    }
  }

  /** The offset in `chunk` just after the first frame that ends in it (feeding up to there), or -1. */
  feedUntilBoundary (chunk: Buffer): number {
    for (let end = 1; end <= chunk.length; end++) {
      this.feed(chunk.subarray(end - 1, end))
      if (this.atBoundary) return end
    }
    return -1
  }
}

/** Total header length once enough bytes are known (2 + extended length + mask key). */
function headerLength (h: number[]): number | undefined {
  if (h.length < 2) return undefined
  const b1 = h[1] as number
  const len7 = b1 & 0x7f
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0
  return 2 + ext + ((b1 & 0x80) !== 0 ? 4 : 0)
}

function payloadLength (h: number[]): number {
  const len7 = (h[1] as number) & 0x7f
  if (len7 < 126) return len7
  if (len7 === 126) return ((h[2] as number) << 8) | (h[3] as number)
  let n = 0
  for (let i = 2; i < 10; i++) n = n * 256 + (h[i] as number)
  return n
}

/** An unmasked Close frame, status 1001 "going away" (a server leaving). */
export const CLOSE_GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9])
