/**
 * Requests switchyard answers itself, because no backend could answer them
 * meaningfully: `OPTIONS *` (a ping of the server, RFC 9110 §9.3.7), any
 * other asterisk-form request (400), `CONNECT` (a forward-proxy tunnel: 405),
 * and request lines too long for the head limit (414, as nginx answers).
 * An `Upgrade: h2c` request is served as the plain HTTP/1.1 request it also
 * is (RFC 9113 §3.1 deprecates the upgrade; a server may ignore it).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/** Methods switchyard forwards; what `OPTIONS *` and a refused `CONNECT` list in `Allow`. */
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/** `OPTIONS *`: 200 with `Allow`, no body. */
export function answerOptionsAsterisk (res: ServerResponse): void {
  res.writeHead(200, { allow: ALLOW, 'content-length': 0 })
  res.end()
}

const CONNECT_BODY = 'CONNECT is not supported: switchyard is a reverse proxy, not a forward proxy\n'
const CONNECT_REFUSED = `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(CONNECT_BODY)}\r\nConnection: close\r\n\r\n${CONNECT_BODY}`

/** Node hands `CONNECT` over as a raw socket (its 'connect' event); without an answer the client would hang. */
export function refuseConnect (socket: Duplex): void {
  socket.on('error', () => {})
  socket.end(CONNECT_REFUSED)
}

/** `GET `, `OPTIONS ` …: a chunk that starts a request line. */
const REQUEST_LINE_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /

/**
 * Whether a head over `maxHeaderBytes` (Node's HPE_HEADER_OVERFLOW) overflowed
 * in its request line, i.e. the URL is the absurd part: the bytes Node was
 * parsing start a request and hold no line end before the point of failure.
 * A request line that arrived across several reads is not recognised and
 * keeps the 431 of any oversized head.
 */
export function overflowedInRequestLine (err: Error & { rawPacket?: unknown, bytesParsed?: unknown }): boolean {
  const raw = err.rawPacket
  if (!Buffer.isBuffer(raw) || !REQUEST_LINE_START.test(raw.toString('latin1', 0, 32))) return false
  const eol = raw.indexOf('\r\n')
  return eol === -1 || eol >= (typeof err.bytesParsed === 'number' ? err.bytesParsed : raw.length)
}

/** An upgrade to HTTP/2 over cleartext (`Upgrade: h2c`), not a WebSocket. */
export function isH2cUpgrade (req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade
  return upgrade !== undefined && /(^|,)\s*h2c\s*(,|$)/i.test(upgrade) && !/websocket/i.test(upgrade)
}

const UPGRADE_TOKENS = new Set(['upgrade', 'http2-settings'])

/**
 * Serves an `Upgrade: h2c` request as plain HTTP/1.1. Node has already
 * handed its socket over as an upgrade, so the request head is rebuilt
 * without `Upgrade`, `HTTP2-Settings` and their `Connection` tokens, put back
 * in front of the bytes that followed it, and the socket is given to the
 * server again as a new connection: the request then takes the ordinary
 * path (routing, sticky cookie, body, keep-alive) like any other.
 */
export function replayWithoutUpgrade (server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (lower === 'upgrade' || lower === 'http2-settings') continue
    let value = raw[i + 1] as string
    if (lower === 'connection') {
      value = value.split(',').map(v => v.trim()).filter(v => v !== '' && !UPGRADE_TOKENS.has(v.toLowerCase())).join(', ')
      if (value === '') continue
    }
    text += `${name}: ${value}\r\n`
  }
  socket.unshift(Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), head]))
  // Over TLS the socket is already decrypted: it goes where new TLS connections go once their handshake is done.
  server.emit((socket as Duplex & { encrypted?: boolean }).encrypted === true ? 'secureConnection' : 'connection', socket)
}
