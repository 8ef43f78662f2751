/**
 * The console shell: asks for the token when the API wants one, polls
 * GET /admin/status, and shows the page the URL's fragment names.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { call, POLL_MS, token, whenUnauthorized, type ApiError } from './api.js'
import { PAGES } from './pages/index.js'
import { href, parseHash } from './router.js'
import { SignIn } from './sign-in.js'
import type { Status } from './types.js'

export function App () {
  const [status, setStatus] = useState<Status | null>(null)
  const [unauthorized, setUnauthorized] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [location, setLocation] = useState(() => parseHash(window.location.hash))

  useEffect(() => {
    const onHash = (): void => setLocation(parseHash(window.location.hash))
    window.addEventListener('hashchange', onHash)
    whenUnauthorized(e => setUnauthorized(e.message))
    return () => window.removeEventListener('hashchange', onHash)
  }, [])

  const refresh = useCallback(async () => {
    try {
      const r = await call<Status>('GET', '/admin/status')
      setStatus(r.body)
      setUnauthorized(null)
      setError(null)
    } catch (e) {
      if ((e as ApiError).status !== 401) setError((e as Error).message)
    }
  }, [])

  useEffect(() => {
    if (unauthorized !== null) return
    void refresh()
    const timer = setInterval(() => { void refresh() }, POLL_MS)
    return () => clearInterval(timer)
  }, [unauthorized, refresh])

  if (unauthorized !== null) return <SignIn message={unauthorized} onSignedIn={() => { setUnauthorized(null) }} />
  if (status === null) return <main><p class={error === null ? 'loading' : 'notice error'}>{error ?? 'Loading switchyard…'}</p></main>

  const pages = PAGES.filter(p => p.available?.(status) ?? true)
  const page = pages.find(p => p.id === location.page) ?? pages[0]
  if (page === undefined) return null
  const routeArg = location.arg ?? status.routes[0]?.name ?? null
  const Component = page.component
  return (
    <>
      <header class='top'>
        <a class='brand' href={href('overview')}>switchyard</a>
        <nav>
          {pages.map(p => (
            <a key={p.id} href={href(p.id, p.perRoute === true ? routeArg : null)} aria-current={p.id === page.id ? 'page' : undefined}>{p.title}</a>
          ))}
        </nav>
        <span class='rev' title={`sha256 ${status.sha256}`} data-revision={status.revision}>
          revision <b>{status.revision}</b> · {status.source}
        </span>
        {token.get() !== null && <button type='button' class='link' onClick={() => { token.clear(); setStatus(null); setUnauthorized('signed out') }}>Sign out</button>}
      </header>
      {error !== null && <p class='notice error' role='alert'>{error}</p>}
      {status.lastReloadError !== null && (
        <p class='notice error' role='alert'>
          The config file was rejected at {status.lastReloadError.at} ({status.lastReloadError.source}); revision {status.revision} keeps serving: {status.lastReloadError.problems.map(p => p.text).join('; ')}
        </p>
      )}
      <main key={page.id}>
        <Component status={status} refresh={refresh} location={{ ...location, arg: page.perRoute === true ? routeArg : location.arg }} />
      </main>
    </>
  )
}
