/**
 * The console's only way out: the admin API on the page's own origin.
 * The bearer token, when the listener needs one, is kept in sessionStorage:
 * it lives as long as the tab and never reaches another tab, a cookie or
 * a URL. Every change carries the revision the user looked at (If-Match),
 * so a change made meanwhile by someone else is refused, not overwritten.
 */

const TOKEN_KEY = 'switchyard.adminToken'

/** How often pages ask again: switchyard samples its time series every 5 s. */
export const POLL_MS = 5000

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => { sessionStorage.setItem(TOKEN_KEY, value) },
  clear: (): void => { sessionStorage.removeItem(TOKEN_KEY) }
}

/** An error answer of the admin API: `{"error": code, "message": …}`. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly body: Readonly<Record<string, unknown>>) {
    super(message)
    this.name = 'ApiError'
  }

  /** 412: the config moved on since the revision the change was based on. */
  get conflict (): boolean {
    return this.status === 412
  }

  /** The revision the config is at now, when the API said (412 bodies do). */
  get currentRevision (): number | null {
    return typeof this.body.revision === 'number' ? this.body.revision : null
  }
}

export interface Reply<T> {
  readonly body: T
  /** The revision the reply describes (the ETag, `"5"` → 5). */
  readonly revision: number | null
  readonly etag: string | null
}

/** Called on every 401, so the app can ask for the token. */
let onUnauthorized: (e: ApiError) => void = () => {}
export function whenUnauthorized (fn: (e: ApiError) => void): void {
  onUnauthorized = fn
}

export async function call<T> (method: 'GET' | 'PUT' | 'POST', path: string, opts: { body?: unknown, ifMatch?: string | null } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const bearer = token.get()
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['if-match'] = opts.ifMatch
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), cache: 'no-store', credentials: 'omit' })
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `cannot reach switchyard's admin API (${(err as Error).message}); is it running?`, {})
  }
  const text = await res.text()
  let parsed: unknown = {}
  try {
    parsed = text === '' ? {} : JSON.parse(text)
  } catch {
    parsed = { message: text }
  }
  if (!res.ok) {
    const b = (parsed ?? {}) as Record<string, unknown>
    const e = new ApiError(res.status, typeof b.error === 'string' ? b.error : `HTTP_${res.status}`, typeof b.message === 'string' ? b.message : `HTTP ${res.status}`, b)
    if (res.status === 401) onUnauthorized(e)
    throw e
  }
  const etag = res.headers.get('etag')
  const m = etag === null ? null : /^(?:W\/)?"(\d+)"$/.exec(etag)
  return { body: parsed as T, etag, revision: m === null ? null : Number(m[1]) }
}
