/** What the Node proxy peers do when undici's pool.stream() fails: 502 before the head, a cut connection after. */

interface Response {
  readonly headersSent: boolean
  writeHead (status: number, headers: Record<string, string>): unknown
  end (body: string): unknown
  destroy (err?: Error): unknown
}

export function onStreamError (res: Response): (err: Error | null) => void {
  return (err) => {
    if (err === null) return
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`bad gateway: ${(err as NodeJS.ErrnoException).code ?? err.message}`)
    } else {
      res.destroy(err)
    }
  }
}
