/**
 * Calls the admin API of a running switchyard: through a socket at its URL,
 * or in process through Fastify's inject() on its admin app (the same
 * routes, hooks and serializers; no listener, no connection).
 */
import { once } from 'node:events'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'

export interface AdminResponse<T = Record<string, unknown>> {
  status: number
  etag: string | undefined
  body: T
  text: string
}

type Method = 'GET' | 'PUT' | 'POST'

async function send (target: string | FastifyInstance, method: Method, path: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<{ status: number, etag: unknown, text: string }> {
  if (typeof target !== 'string') {
    const res = await target.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: body }) })
    return { status: res.statusCode, etag: res.headers.etag, text: res.body }
  }
  const res = await request(target + path, { method, headers, body })
  return { status: res.statusCode, etag: res.headers.etag, text: await res.body.text() }
}

export async function admin<T = Record<string, unknown>> (target: string | FastifyInstance, method: Method, path: string, opts: { body?: unknown, raw?: string | Buffer, contentType?: string, headers?: Record<string, string> } = {}): Promise<AdminResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers }
  let body: string | Buffer | undefined
  if (opts.raw !== undefined) {
    body = opts.raw
    headers['content-type'] = opts.contentType ?? 'application/json'
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] = 'application/json'
  }
  const res = await send(target, method, path, headers, body)
  let parsed: unknown = {}
  try { parsed = JSON.parse(res.text) } catch { parsed = { text: res.text } }
  return { status: res.status, etag: typeof res.etag === 'string' ? res.etag : undefined, body: parsed as T, text: res.text }
}

/**
 * A real HTTP hop in front of an admin API that runs `beforeWrite` before
 * passing each write (any method but GET) on: a client that read the
 * status sees another operator's change land between its read and its
 * write — the race If-Match exists for, made deterministic.
 */
export async function interposeWrites (adminUrl: string, beforeWrite: () => Promise<unknown>): Promise<{ url: string, close: () => void }> {
  const target = new URL(adminUrl)
  const front = createServer((req, res) => {
    const forward = (): void => {
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, upRes => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
      })
      req.pipe(up)
    }
    if (req.method === 'GET') return forward()
    beforeWrite().then(forward, forward)
  })
  front.listen(0, '127.0.0.1')
  await once(front, 'listening')
  return { url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`, close: () => { front.close(); front.closeAllConnections() } }
}
