/**
 * Header handling between client and upstream (RFC 9110 §7.6.1): hop-by-hop
 * headers are connection-specific and never forwarded, in either direction;
 * X-Forwarded-*, X-Real-IP and the request ID are set for the upstream; the
 * compiled header rules of the route and backend apply on top.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Backend, HeaderPlan, ProxySettings, Route } from '../routing/types.js'

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
 * field for HTTP semantics. `prefix` is a stripped path prefix, announced
 * in X-Forwarded-Prefix as Traefik does. Header rules apply afterwards
 * (applyHeaderPlan), so they may also replace what switchyard sets here.
 */
export function upstreamRequestHeaders (headers: IncomingHttpHeaders, clientIp: string, proxy: ProxySettings, requestId: string, prefix: string | undefined, secure = false): string[] {
  const out: string[] = []
  const listed = connectionListed(headers.connection)
  const idHeader = proxy.requestIdHeader
  for (const name in headers) {
    // HTTP/2 pseudo-headers (`:path`, `:authority`…) are the request line, not fields.
    if (name.charCodeAt(0) === 58 /* : */) continue
    if (REQUEST_DROP.has(name) || FORWARDED.has(name) || name === idHeader) {
      // Over HTTP/2 (pseudo-headers present) `TE: trailers` is the one TE allowed (RFC 9113 §8.2.2) and
      // gRPC sends it with every call (PROTOCOL-HTTP2.md); over HTTP/1.1 TE stays hop-by-hop.
      if (name === 'te' && headers.te === 'trailers' && headers[':method'] !== undefined) out.push('te', 'trailers')
      continue
    }
    if (listed !== undefined && listed.has(name)) continue
    if (prefix !== undefined && name === 'x-forwarded-prefix') continue
    const value = headers[name]
    if (value === undefined) continue
    out.push(name, typeof value === 'string' ? value : value.join(', '))
  }
  const xff = headers['x-forwarded-for']
  out.push('x-forwarded-for', xff === undefined || xff === '' ? clientIp : `${String(xff)}, ${clientIp}`)
  const proto = proxy.trustForwarded ? headers['x-forwarded-proto'] : undefined
  out.push('x-forwarded-proto', typeof proto === 'string' ? proto : secure ? 'https' : 'http')
  const fwdHost = proxy.trustForwarded ? headers['x-forwarded-host'] : undefined
  const host = typeof fwdHost === 'string' ? fwdHost : headers.host
  if (host !== undefined) out.push('x-forwarded-host', host)
  // X-Real-IP is the client's address, as nginx setups send it; a client's
  // own X-Real-IP and Forwarded are believed only behind a trusted proxy.
  const realIp = proxy.trustForwarded ? headers['x-real-ip'] : undefined
  out.push('x-real-ip', typeof realIp === 'string' ? realIp : clientIp)
  const forwarded = proxy.trustForwarded ? headers.forwarded : undefined
  if (forwarded !== undefined) out.push('forwarded', forwarded)
  if (prefix !== undefined) out.push('x-forwarded-prefix', prefix)
  out.push(idHeader, requestId)
  return out
}

/** `headers` (a lowercased flat list) with a header plan applied: a new list, the input is kept for a failover to another backend. */
export function applyHeaderPlan (headers: readonly string[], plan: HeaderPlan | undefined): string[] {
  if (plan === undefined) return headers.slice()
  const out: string[] = []
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string
    if (!plan.drop.has(name)) out.push(name, headers[i + 1] as string)
  }
  for (const item of plan.append) out.push(item)
  return out
}

/**
 * The request target sent upstream: `url` (path and query) without the
 * route's `stripPrefix` when `path` starts with it on a segment boundary
 * (`/api` strips `/api` and `/api/x`, not `/apix`); undefined when it does
 * not apply.
 */
export function stripPathPrefix (url: string, path: string, prefix: string): string | undefined {
  if (!path.startsWith(prefix)) return undefined
  if (path.length === prefix.length) return '/' + url.slice(prefix.length)
  return path.charCodeAt(prefix.length) === 47 /* / */ ? url.slice(prefix.length) : undefined
}

/** Lengths of the hop-by-hop response header names: only those names are lowercased to be checked. */
function hopByHopLength (len: number): boolean {
  return len === 10 || len === 17 || len === 16 || len === 2 || len === 7
}

/**
 * Response headers from undici's raw Buffer list → flat string list for
 * `res.writeHead`, appended to `out` (switchyard's own headers). Hop-by-hop
 * headers go, with the names the upstream lists in its own `Connection`
 * header (RFC 9110 §7.6.1; removed afterwards, in the rare response that
 * lists any beyond keep-alive/close); then the route's and serving
 * backend's rules apply, and a `Location` on the serving target's origin is
 * rewritten. Only names whose length could match are lowercased, so most
 * names cost one toString.
 */
export function clientResponseHeaders (raw: readonly Buffer[], out: string[], route: Route, served: Backend): string[] {
  const from = out.length
  let listed: Set<string> | undefined
  const plan = route.responseHeaders?.[served.index]
  const rewrite = route.rewriteLocation
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const nameBuf = raw[i] as Buffer
    const len = nameBuf.length
    const name = nameBuf.toString('latin1')
    if (hopByHopLength(len) && isHopByHopResponse(name.toLowerCase())) {
      if (len === 10 && name.toLowerCase() === 'connection') {
        const names = connectionListed((raw[i + 1] as Buffer).toString('latin1'))
        if (names !== undefined) listed = listed === undefined ? names : new Set([...listed, ...names])
      }
      continue
    }
    if (plan !== undefined && plan.dropLengths.has(len) && plan.drop.has(name.toLowerCase())) continue
    const value = (raw[i + 1] as Buffer).toString('latin1')
    if (rewrite && len === 8 && name.toLowerCase() === 'location') {
      out.push(name, rewriteLocation(value, served.targets, route.stripPrefix))
    } else {
      out.push(name, value)
    }
  }
  if (listed !== undefined) withoutListed(out, from, listed)
  if (plan !== undefined) for (const item of plan.append) out.push(item)
  return out
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

/**
 * nginx's `proxy_redirect default`: a redirect to the target's own origin
 * (which the client cannot reach) becomes a path on the host the client
 * used, with the stripped prefix put back: with `stripPrefix: /api`,
 * `http://10.0.0.7:8080/login?next=1` → `/api/login?next=1`. Any other
 * Location is left as the backend sent it.
 */
export function rewriteLocation (value: string, origins: readonly string[], prefix: string | undefined): string {
  for (const origin of origins) {
    if (value.length < origin.length || value.slice(0, origin.length).toLowerCase() !== origin) continue
    const rest = value.slice(origin.length)
    const base = prefix ?? ''
    if (rest === '') return base + '/'
    const c = rest.charCodeAt(0)
    if (c === 47 /* / */) return base + rest
    if (c === 63 /* ? */ || c === 35 /* # */) return base + '/' + rest
    // Otherwise the origin only shares a beginning (`:8080` and `:80801`).
  }
  return value
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
  return socketAddress(req.socket)
}

export function socketAddress (socket: Socket): string {
  const addr = socket.remoteAddress ?? ''
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr
}
