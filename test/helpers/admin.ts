/** Calls the admin API of a running switchyard. */
import { request } from 'undici'

export interface AdminResponse<T = Record<string, unknown>> {
  status: number
  etag: string | undefined
  body: T
  text: string
}

export async function admin<T = Record<string, unknown>> (base: string, method: 'GET' | 'PUT' | 'POST', path: string, opts: { body?: unknown, raw?: string | Buffer, contentType?: string, headers?: Record<string, string> } = {}): Promise<AdminResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers }
  let body: string | Buffer | undefined
  if (opts.raw !== undefined) {
    body = opts.raw
    headers['content-type'] = opts.contentType ?? 'application/json'
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] = 'application/json'
  }
  const res = await request(base + path, { method, headers, body })
  const text = await res.body.text()
  let parsed: unknown = {}
  try { parsed = JSON.parse(text) } catch { parsed = { text } }
  return { status: res.statusCode, etag: typeof res.headers.etag === 'string' ? res.headers.etag : undefined, body: parsed as T, text }
}
