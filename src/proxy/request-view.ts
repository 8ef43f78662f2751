/**
 * The routing view of a node:http request: the only place the data path
 * turns a socket-level request into what `decide()` reads. Everything is
 * lazy: the host is normalised, cookies parsed and the query split only
 * when a route or rule asks for them.
 */
import type { IncomingMessage } from 'node:http'
import { parse as parseCookie } from 'cookie'
import { unescape as unescapeQuery } from 'node:querystring'
import type { RequestView } from '../routing/types.js'

type CookieMap = Record<string, string | undefined>

export class NodeRequestView implements RequestView {
  readonly method: string
  readonly path: string
  /** The request target in origin form (path + query), as sent upstream. */
  readonly url: string
  readonly #req: IncomingMessage
  readonly #queryString: string
  #host: string | undefined
  #cookies: CookieMap | undefined

  constructor (req: IncomingMessage) {
    this.#req = req
    this.method = req.method ?? 'GET'
    let url = req.url ?? '/'
    if (url.charCodeAt(0) !== 47 /* / */) url = originForm(url)
    this.url = url
    const q = url.indexOf('?')
    this.path = q === -1 ? url : url.slice(0, q)
    this.#queryString = q === -1 ? '' : url.slice(q + 1)
  }

  get host (): string {
    if (this.#host === undefined) this.#host = normaliseHost(this.#req.headers.host)
    return this.#host
  }

  header (name: string): string | undefined {
    const v = this.#req.headers[name]
    return typeof v === 'string' || v === undefined ? v : v.join(', ')
  }

  cookie (name: string): string | undefined {
    let cookies = this.#cookies
    if (cookies === undefined) {
      const header = this.#req.headers.cookie
      // cookie.parse keeps a value it cannot percent-decode as it is, never throws on bad bytes.
      cookies = this.#cookies = header === undefined ? {} : parseCookie(header)
    }
    return cookies[name]
  }

  /**
   * The first value of query parameter `name` (as querystring.parse would
   * give it), found by scanning for that one key: a rule asks for one or
   * two parameters, so splitting the whole query into an object would be
   * wasted (about 240 ns on a typical query string).
   */
  query (name: string): string | undefined {
    return queryValue(this.#queryString, name)
  }
}

export function queryValue (qs: string, name: string): string | undefined {
  let start = 0
  while (start <= qs.length) {
    let end = qs.indexOf('&', start)
    if (end === -1) end = qs.length
    const eq = qs.indexOf('=', start)
    const keyEnd = eq === -1 || eq > end ? end : eq
    if (keyEnd > start) {
      const key = qs.slice(start, keyEnd)
      const escaped = key.includes('%') || key.includes('+')
      if ((escaped ? unescapeQuery(key.replace(/\+/g, ' ')) : key) === name) {
        return keyEnd === end ? '' : unescapeQuery(qs.slice(keyEnd + 1, end).replace(/\+/g, ' '))
      }
    }
    start = end + 1
  }
  return undefined
}

/** `Example.COM:8080` → `example.com`; `[::1]:80` → `[::1]`. */
export function normaliseHost (host: string | undefined): string {
  if (host === undefined || host === '') return ''
  let end = host.length
  const colon = host.lastIndexOf(':')
  if (colon !== -1 && host.indexOf(']', colon) === -1) end = colon
  const h = host.slice(0, end)
  return h.toLowerCase()
}

/** An absolute-form target (`http://host/p?q`, as proxies may receive) → `/p?q`; `*` stays. */
function originForm (url: string): string {
  if (url === '*') return url
  try {
    const u = new URL(url)
    return u.pathname + u.search
  } catch {
    return '/' + url
  }
}
