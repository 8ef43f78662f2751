/**
 * The CLI's HTTP client for the admin API: the admin URL from --admin or
 * SWITCHYARD_ADMIN, the token from the environment (never a flag, so it
 * stays out of shell history), errors turned into CliError with the API's
 * own code and message.
 */
import { request, type Dispatcher } from 'undici'
import { tokenFromEnv } from '../admin/auth.js'

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9901'

/** Exit codes: 1 the request failed or was refused, 3 a lost race (412). */
export class CliError extends Error {
  constructor (message: string, readonly exitCode = 1, readonly code?: string, readonly body?: unknown) {
    super(message)
    this.name = 'CliError'
  }
}

export interface AdminReply<T> {
  readonly status: number
  readonly etag: string | undefined
  readonly body: T
}

export class AdminClient {
  readonly base: string
  readonly #token: string | undefined

  constructor (admin: string | undefined) {
    this.base = (admin ?? process.env.SWITCHYARD_ADMIN ?? DEFAULT_ADMIN_URL).replace(/\/+$/, '')
    this.#token = tokenFromEnv()
  }

  /** Sends a request with the token; an unreachable admin API is a CliError. */
  async #send (method: 'GET' | 'PUT' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<Dispatcher.ResponseData> {
    headers['x-switchyard-client'] = 'cli'
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    try {
      return await request(this.base + path, { method, headers, body })
    } catch (err) {
      throw new CliError(`cannot reach the admin API at ${this.base}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (is switchyard running? see --admin)`)
    }
  }

  async call<T> (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, ifMatch?: string): Promise<AdminReply<T>> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (ifMatch !== undefined) headers['if-match'] = ifMatch
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await this.#send(method, path, headers, body === undefined ? undefined : JSON.stringify(body))
    const text = await res.body.text()
    let parsed: unknown
    try {
      parsed = text === '' ? {} : JSON.parse(text)
    } catch {
      parsed = { message: text }
    }
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined
    if (res.statusCode >= 400) {
      const b = parsed as { error?: string, message?: string }
      if (res.statusCode === 412) {
        throw new CliError(`lost a race: the config changed since it was read (${b.message ?? ''}); nothing was changed — check \`switchyard status\` and try again`, 3, b.error, parsed)
      }
      throw new CliError(`${b.message ?? `HTTP ${res.statusCode}`}${b.error === undefined ? '' : ` [${b.error}]`}`, 1, b.error, parsed)
    }
    return { status: res.statusCode, etag, body: parsed as T }
  }
}
