/**
 * Pages are addressed by the URL's fragment (`/ui/#/route/shop`), so the
 * admin listener serves one document for all of them and a reload or a
 * shared link opens the same page. Pure: unit-tested in test/ui/.
 */

export interface Location {
  /** The page id (`overview` when the fragment is empty). */
  readonly page: string
  /** The page's argument, e.g. a route name. */
  readonly arg: string | null
  readonly query: URLSearchParams
}

export function parseHash (hash: string): Location {
  const raw = hash.replace(/^#\/?/, '')
  const q = raw.indexOf('?')
  const path = q === -1 ? raw : raw.slice(0, q)
  const [page = '', ...rest] = path.split('/')
  const arg = rest.length === 0 || rest.join('/') === '' ? null : decodeURIComponent(rest.join('/'))
  return { page: page === '' ? 'overview' : page, arg, query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) }
}

export function href (page: string, arg?: string | null, query?: Readonly<Record<string, string>>): string {
  const qs = query === undefined ? '' : new URLSearchParams(query).toString()
  return `#/${page}${arg === undefined || arg === null ? '' : `/${encodeURIComponent(arg)}`}${qs === '' ? '' : `?${qs}`}`
}
