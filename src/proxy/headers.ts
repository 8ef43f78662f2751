/**
 * Header handling between client and upstream (RFC 9110 §7.6.1): hop-by-hop
 * headers are connection-specific and never forwarded, in either direction;
 * X-Forwarded-* and X-Real-IP are set for the upstream.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'

/** Request headers never forwarded upstream (undici also refuses most of them). */
const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'expect', 'http2-settings'
])

/** Set by switchyard below, from what it sees or (with trustForwarded) what the client sent. */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded'])

/** Names listed in a Connection header are hop-by-hop too (except the usual keep-alive/close). */
function connectionListed (connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined
  const lower = connection.toLowerCase()
  if (lower === 'keep-alive' || lower === 'close') return undefined
  const names = new Set<string>()
  for (const part of lower.split(',')) {
    const name = part.trim()
    if (name !== '' && name !== 'keep-alive' && name !== 'close') names.add(name)
  }
  return names.size === 0 ? undefined : names
}

/**
 * The flat [name, value, …] list sent upstream. Names come lowercased from
 * Node's parser; repeated headers arrive joined (`a, b`), which is the same
 * field for HTTP semantics.
 */
export function upstreamRequestHeaders (headers: IncomingHttpHeaders, clientIp: string, trustForwarded: boolean): string[] {
  const out: string[] = []
  const listed = connectionListed(headers.connection)
  for (const name in headers) {
    if (REQUEST_DROP.has(name) || FORWARDED.has(name)) continue
    if (listed !== undefined && listed.has(name)) continue
    const value = headers[name]
    if (value === undefined) continue
    out.push(name, typeof value === 'string' ? value : value.join(', '))
  }
  const xff = headers['x-forwarded-for']
  out.push('x-forwarded-for', xff === undefined || xff === '' ? clientIp : `${String(xff)}, ${clientIp}`)
  const proto = trustForwarded ? headers['x-forwarded-proto'] : undefined
  out.push('x-forwarded-proto', typeof proto === 'string' ? proto : 'http')
  const fwdHost = trustForwarded ? headers['x-forwarded-host'] : undefined
  const host = typeof fwdHost === 'string' ? fwdHost : headers.host
  if (host !== undefined) out.push('x-forwarded-host', host)
  // X-Real-IP is the client's address, as nginx setups send it; a client's
  // own X-Real-IP and Forwarded are believed only behind a trusted proxy.
  const realIp = trustForwarded ? headers['x-real-ip'] : undefined
  out.push('x-real-ip', typeof realIp === 'string' ? realIp : clientIp)
  const forwarded = trustForwarded ? headers.forwarded : undefined
  if (forwarded !== undefined) out.push('forwarded', forwarded)
  return out
}

/**
 * Response headers from undici's raw Buffer list → flat string list for
 * `res.writeHead`, appended to `out`. Only names with the length of a
 * hop-by-hop header are lowercased and checked, so most names cost one
 * toString. Names the upstream lists in its own `Connection` header are
 * hop-by-hop too (RFC 9110 §7.6.1); they are removed afterwards, in the
 * rare response that lists any beyond keep-alive/close.
 */
export function clientResponseHeaders (raw: readonly Buffer[], out: string[]): string[] {
  const from = out.length
  let listed: Set<string> | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const nameBuf = raw[i] as Buffer
    const len = nameBuf.length
    const name = nameBuf.toString('latin1')
    if ((len === 10 || len === 17 || len === 16 || len === 2 || len === 7) && isHopByHopResponse(name.toLowerCase())) {
      if (len === 10 && name.toLowerCase() === 'connection') {
        const names = connectionListed((raw[i + 1] as Buffer).toString('latin1'))
        if (names !== undefined) listed = listed === undefined ? names : new Set([...listed, ...names])
      }
      continue
    }
    out.push(name, (raw[i + 1] as Buffer).toString('latin1'))
  }
  return listed === undefined ? out : withoutListed(out, from, listed)
}

/** `out` without the fields from index `from` on whose names are in `listed`. */
function withoutListed (out: string[], from: number, listed: ReadonlySet<string>): string[] {
  let w = from
  for (let r = from; r + 1 < out.length; r += 2) {
    if (listed.has((out[r] as string).toLowerCase())) continue
    out[w++] = out[r] as string
    out[w++] = out[r + 1] as string
  }
  out.length = w
  return out
}

function isHopByHopResponse (lower: string): boolean {
  switch (lower) {
    case 'connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'proxy-connection':
    case 'te':
    case 'trailer':
    case 'upgrade':
      return true
    default:
      return false
  }
}

/** The client's address, IPv4-mapped IPv6 shown as plain IPv4 (as nginx does). */
export function clientAddress (req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? ''
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr
}
