/** Raw HTTP/1.1 over a socket, for requests a well-behaved client refuses to send. */
import { connect } from 'node:net'

export interface RawResponse {
  raw: string
  status: number
  headers: Record<string, string>
  body: string
}

/** Sends `text` as is and reads until the server closes (send `Connection: close`). */
export async function rawRequest (baseUrl: string, text: string | Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl)
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => { s.write(text) })
    let data = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { data += d })
    s.on('end', () => resolve(data))
    s.on('close', () => resolve(data))
    s.on('error', reject)
  })
  return parseRaw(raw)
}

export function parseRaw (raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n')
  const head = end === -1 ? raw : raw.slice(0, end)
  const lines = head.split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  let body = end === -1 ? '' : raw.slice(end + 4)
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
  return { raw, status, headers, body }
}

function dechunk (s: string): string {
  let out = ''
  let i = 0
  while (i < s.length) {
    const nl = s.indexOf('\r\n', i)
    if (nl === -1) break
    const size = parseInt(s.slice(i, nl), 16)
    if (!(size > 0)) break
    out += s.slice(nl + 2, nl + 2 + size)
    i = nl + 2 + size + 2
  }
  return out
}
