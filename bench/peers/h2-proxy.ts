/**
 * Peer: the bare Node HTTP/2 proxy, node:http2 (h2c, prior knowledge) in
 * front of one undici Pool (128 connections, HTTP/1.1 upstream) with
 * `pool.stream()`: what one Node process can do for HTTP/2 clients with no
 * routing at all. Hop-by-hop headers and pseudo-headers are not forwarded.
 * env: PORT, UPSTREAM
 */
import { createServer, type Http2ServerResponse } from 'node:http2'
import { Pool, type Dispatcher } from 'undici'
import { HOST, requiredPort, requiredUpstream } from './env.js'
import { onStreamError } from './stream-error.js'

const port = requiredPort()
const pool = new Pool(requiredUpstream(), { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'])

function filter (headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const k in headers) {
    const v = headers[k]
    if (v !== undefined && !HOP.has(k) && k.charCodeAt(0) !== 58) out[k] = v
  }
  return out
}

function factory ({ statusCode, headers, opaque }: Dispatcher.StreamFactoryData<Http2ServerResponse>): Http2ServerResponse {
  opaque.writeHead(statusCode, filter(headers))
  return opaque
}

createServer((req, res) => {
  const headers = filter(req.headers)
  headers.host = req.headers[':authority'] ?? ''
  pool.stream({
    path: req.url,
    method: req.method as Dispatcher.HttpMethod,
    headers: headers as Record<string, string>,
    body: req.stream.endAfterHeaders ? null : req,
    opaque: res
  }, factory, onStreamError(res))
}).listen(port, HOST)
