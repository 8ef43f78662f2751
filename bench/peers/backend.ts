/**
 * Fixed upstream on plain node:http, used when nginx is not installed (and
 * for DELAY_MS > 0, which nginx cannot do). Same paths as the nginx backend:
 *   GET /16k…     → LARGE_BODY_BYTES bytes
 *   anything else → BODY_BYTES bytes
 * env: PORT, BODY_BYTES=100, LARGE_BODY_BYTES=16384, DELAY_MS=0
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { HOST, requiredPort } from './env.js'

const port = requiredPort()
const small = Buffer.alloc(Number(process.env.BODY_BYTES ?? 100), 'x')
const large = Buffer.alloc(Number(process.env.LARGE_BODY_BYTES ?? 16384), 'y')
const delayMs = Number(process.env.DELAY_MS ?? 0)

const smallHeaders = { 'content-type': 'text/plain', 'content-length': String(small.length) }
const largeHeaders = { 'content-type': 'text/plain', 'content-length': String(large.length) }

function reply (req: IncomingMessage, res: ServerResponse): void {
  const big = (req.url ?? '/').startsWith('/16k')
  res.writeHead(200, big ? largeHeaders : smallHeaders)
  res.end(big ? large : small)
}

function drainThenReply (req: IncomingMessage, res: ServerResponse): void {
  // A request body must be consumed, or the keep-alive connection stalls.
  if (req.method === 'GET' || req.method === 'HEAD') return reply(req, res)
  req.resume()
  req.on('end', () => reply(req, res))
}

const handler = delayMs > 0
  ? (req: IncomingMessage, res: ServerResponse) => { setTimeout(drainThenReply, delayMs, req, res) }
  : drainThenReply

const server = createServer({ keepAlive: true }, handler)
// Outlive the proxies' pool keep-alive so no run pays for reconnects.
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.listen(port, HOST)

process.on('SIGTERM', () => process.exit(0))
