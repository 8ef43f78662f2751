/**
 * Route: what the route matches, its rules in the order they are tried, its
 * default split; and "explain": where a request would go and why, the same
 * answer as `switchyard explain` (both ask POST /admin/explain).
 */
import { useEffect, useState } from 'preact/hooks'
import { call, type ApiError } from '../api.js'
import { RoutePicker } from '../components/route-picker.js'
import { WeightBar } from '../components/weight-bar.js'
import { describeMatch, fmtPercent, parseCookieLines, parseHeaderLines } from '../format.js'
import type { ConfigJson, ExplainReply, ExplainRequest } from '../types.js'
import type { Page, PageProps } from './page.js'

interface RawRule { readonly name: string, readonly when?: unknown }

const json = (v: unknown): string => JSON.stringify(v)

function ExplainForm ({ host }: { host: string | null }) {
  const [form, setForm] = useState({ method: 'GET', host: host ?? '', path: '/', headers: '', cookies: '', userAgent: '' })
  const [reply, setReply] = useState<ExplainReply | null>(null)
  const [error, setError] = useState<string | null>(null)
  const field = (name: keyof typeof form) => ({
    name,
    value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value })
  })
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const h = parseHeaderLines(form.headers)
    const c = parseCookieLines(form.cookies)
    if (h.bad.length > 0 || c.bad.length > 0) {
      setError(`not understood: ${[...h.bad.map(b => `header "${b}" (Name: value)`), ...c.bad.map(b => `cookie "${b}" (name=value)`)].join(', ')}`)
      return
    }
    const headers = { ...h.headers, ...(form.userAgent.trim() === '' ? {} : { 'user-agent': form.userAgent.trim() }) }
    const request: ExplainRequest = { method: form.method, path: form.path, headers, cookies: c.cookies, ...(form.host.trim() === '' ? {} : { host: form.host.trim() }) }
    try {
      setReply((await call<ExplainReply>('POST', '/admin/explain', { body: { request } })).body)
      setError(null)
    } catch (err) {
      setReply(null)
      setError((err as ApiError).message)
    }
  }
  return (
    <section class='card'>
      <h2>Explain a request</h2>
      <form class='explain' onSubmit={e => { void submit(e) }}>
        <label>method <input {...field('method')} size={7} /></label>
        <label>host <input {...field('host')} placeholder='any' /></label>
        <label class='wide'>path <input {...field('path')} required pattern='/.*' /></label>
        <label class='wide'>user agent <input {...field('userAgent')} placeholder='e.g. Mozilla/5.0 (iPhone…)' /></label>
        <label>headers <textarea {...field('headers')} rows={3} placeholder={'x-canary: always\nx-user-id: 42'} /></label>
        <label>cookies <textarea {...field('cookies')} rows={3} placeholder='sy_id=alice; canary=never' /></label>
        <button type='submit'>Explain</button>
      </form>
      {error !== null && <p class='notice error' role='alert'>{error}</p>}
      {reply !== null && (
        <div class='explained' data-backend={reply.backend ?? ''}>
          <p class='answer'>
            {reply.route === null
              ? <>No route: the proxy answers 404.</>
              : <>route <b>{reply.route}</b>, rule <b>{reply.rule}</b>{reply.backend !== null ? <> → <b>{reply.backend}</b> (version {reply.version})</> : <> → a weighted draw</>}</>}
          </p>
          <p class='reason'>{reply.reason}</p>
          <ol class='tried'>
            {reply.routesTried.map(r => <li key={`route-${r.name}`} class={r.matched ? 'yes' : 'no'}>route {r.name}: {r.matched ? 'matches' : 'does not match'}</li>)}
            {reply.rulesTried.map(r => <li key={`rule-${r.name}`} class={r.matched ? 'yes' : 'no'}>rule {r.name}: {r.matched ? 'all conditions hold' : 'not all conditions hold'}</li>)}
          </ol>
          {reply.sticky?.scores !== undefined && (
            <p class='hint'>sticky {reply.sticky.source} {reply.sticky.name}={reply.sticky.key}: scores {Object.entries(reply.sticky.scores).map(([b, s]) => `${b} ${s}`).join(', ')}
              {reply.sticky.switchesAt !== undefined && <>; moves to {reply.sticky.switchesAt.backend} once its share exceeds {fmtPercent(reply.sticky.switchesAt.percent)}</>}
            </p>
          )}
        </div>
      )}
    </section>
  )
}

function RouteView ({ status, location }: PageProps) {
  const route = status.routes.find(r => r.name === location.arg)
  const [config, setConfig] = useState<ConfigJson | null>(null)
  useEffect(() => {
    call<ConfigJson>('GET', '/admin/config').then(r => setConfig(r.body), () => setConfig(null))
  }, [status.revision])
  if (route === undefined) return <p class='notice error'>No route named {location.arg} in revision {status.revision}.</p>
  const raw = config?.routes?.find(r => r.name === route.name) as { rules?: RawRule[] } | undefined
  const order = status.backends.map(b => b.name)
  const host = typeof route.match.host === 'string' ? route.match.host : null
  return (
    <>
      <h1>Route <RoutePicker page='route' status={status} current={route.name} /></h1>
      <section class='card'>
        <dl class='facts'>
          <dt>match</dt><dd>{describeMatch(route.match)} <code>{json(route.match)}</code></dd>
          <dt>sticky</dt><dd>{route.sticky === null ? 'no (each request drawn anew)' : Object.entries(route.sticky).map(([k, v]) => `by ${k} ${v}`).join('')}</dd>
          <dt>timeout</dt><dd>{route.timeout}</dd>
        </dl>
        <h2>Rules, tried in order</h2>
        {route.rules.length === 0 ? <p class='hint'>none: the default split decides every request</p> : (
          <ol class='rule-list'>
            {route.rules.map((r, i) => (
              <li key={r.name} data-rule={r.name}>
                <b>{r.name}</b> when <code>{json(raw?.rules?.[i]?.when ?? '…')}</code>
                <WeightBar percent={r.percent} order={order} label={`rule ${r.name}`} />
              </li>
            ))}
          </ol>
        )}
        <h2>Default split (no rule matched)</h2>
        <WeightBar percent={route.default.percent} order={order} label={`${route.name} default split`} />
      </section>
      <ExplainForm host={host} />
    </>
  )
}

export const routePage: Page = { id: 'route', title: 'Route', component: RouteView, perRoute: true }
