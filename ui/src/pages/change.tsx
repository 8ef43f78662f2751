/**
 * Change: set a route's weights (with the traffic that would move shown
 * first), promote a backend, roll back, undo to a chosen revision. The form
 * keeps the revision it was loaded from and sends it as If-Match with every
 * change: when someone else changed the config meanwhile (CLI, another
 * browser), the API refuses with 412 and the page says so, never
 * overwriting their change. It reloads only when the user asks.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError, call } from '../api.js'
import { DiffPreview } from '../components/diff-preview.js'
import { OutcomeNotice, type Outcome } from '../components/notice.js'
import { RoutePicker } from '../components/route-picker.js'
import { WeightBar } from '../components/weight-bar.js'
import { withRouteWeights, defaultWeights } from '../config-edit.js'
import { fmtAgo, percentOf } from '../format.js'
import type { ChangeReply, ConfigJson, DiffReply, HistoryReply } from '../types.js'
import type { Page, PageProps } from './page.js'

interface Basis {
  readonly revision: number
  readonly etag: string | null
  readonly config: ConfigJson
  readonly history: HistoryReply
}

async function loadBasis (): Promise<Basis> {
  const [config, history] = await Promise.all([call<ConfigJson>('GET', '/admin/config'), call<HistoryReply>('GET', '/admin/history')])
  return { revision: config.revision ?? history.body.revision, etag: config.etag, config: config.body, history: history.body }
}

function routeWeights (config: ConfigJson, route: string): Record<string, number> {
  const raw = config.routes?.find(r => r.name === route) as { to?: string, split?: Record<string, number> } | undefined
  return raw === undefined ? {} : defaultWeights({ to: raw.to, weights: raw.split })
}

/** POST /admin/diff for a candidate, debounced; null while none is asked or it failed. */
function usePreview (candidate: unknown, key: string): { diff: DiffReply | null, error: string | null } {
  const [state, setState] = useState<{ key: string, diff: DiffReply | null, error: string | null }>({ key: '', diff: null, error: null })
  useEffect(() => {
    if (candidate === null) return
    let cancelled = false
    const timer = setTimeout(() => {
      call<DiffReply>('POST', '/admin/diff', { body: { config: candidate } }).then(
        r => { if (!cancelled) setState({ key, diff: r.body, error: null }) },
        (e: ApiError) => { if (!cancelled) setState({ key, diff: null, error: e.message }) })
    }, 250)
    return () => { cancelled = true; clearTimeout(timer) }
  }, [key])
  return state.key === key ? state : { diff: null, error: null }
}

function ChangeView ({ status, refresh, location }: PageProps) {
  const route = location.arg ?? ''
  const [basis, setBasis] = useState<Basis | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [weights, setWeights] = useState<Record<string, number>>({})
  const [promote, setPromote] = useState('')
  const [undoTo, setUndoTo] = useState(Number(location.query.get('undo') ?? 0))
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const [busy, setBusy] = useState(false)

  const reload = useCallback(async (keepOutcome = false) => {
    try {
      const b = await loadBasis()
      setBasis(b)
      setWeights(routeWeights(b.config, route))
      setLoadError(null)
      if (!keepOutcome) setOutcome(null)
    } catch (e) {
      setLoadError((e as Error).message)
    }
  }, [route])
  useEffect(() => { void reload() }, [reload])

  const current = basis === null ? {} : routeWeights(basis.config, route)
  const edited = basis !== null && JSON.stringify(weights) !== JSON.stringify(current)
  const valid = Object.values(weights).every(w => Number.isInteger(w) && w >= 0) && Object.values(weights).some(w => w > 0)
  const weightsPreview = usePreview(basis !== null && edited && valid ? withRouteWeights(basis.config, route, weights) : null, `w:${basis?.revision}:${JSON.stringify(weights)}`)
  const undoEntry = basis?.history.entries.find(e => e.revision === undoTo)
  const [undoText, setUndoText] = useState<string | null>(null)
  useEffect(() => {
    setUndoText(null)
    if (undoEntry === undefined) return
    call<{ config: string }>('GET', `/admin/history/${undoEntry.revision}`).then(r => setUndoText(r.body.config), () => setUndoText(null))
  }, [undoEntry?.revision])
  const undoPreview = usePreview(undoText, `u:${basis?.revision}:${undoTo}:${undoText === null ? 0 : 1}`)

  if (loadError !== null) return <p class='notice error' role='alert'>{loadError}</p>
  if (basis === null) return <p class='loading'>Loading…</p>
  if (!status.routes.some(r => r.name === route)) return <p class='notice error'>No route named {route} in revision {status.revision}.</p>
  const order = status.backends.map(b => b.name)

  /** Runs one change with the basis revision as If-Match; shows the revision it made or why not. */
  const run = async (what: string, method: 'PUT' | 'POST', path: string, body?: unknown): Promise<void> => {
    setBusy(true)
    try {
      const r = await call<ChangeReply>(method, path, { body, ifMatch: basis.etag })
      setOutcome({ kind: 'done', what, reply: r.body })
      await reload(true)
      await refresh()
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      setOutcome({ kind: 'failed', what, error: e, basis: basis.revision })
      if (e.conflict) await refresh()
    } finally {
      setBusy(false)
    }
  }
  const enc = encodeURIComponent(route)
  const others = basis.history.entries.filter(e => e.revision !== basis.revision)

  return (
    <>
      <h1>Change <RoutePicker page='change' status={status} current={route} /></h1>
      <p class='hint basis' data-basis={basis.revision}>
        Editing revision <b>{basis.revision}</b>.
        {status.revision !== basis.revision && <> The config has moved on to revision {status.revision} since; a change now will be refused until you <button type='button' class='link' onClick={() => { void reload() }}>reload</button>.</>}
      </p>
      <OutcomeNotice outcome={outcome} onReload={() => { void reload() }} />

      <section class='card'>
        <h2>Weights of {route}'s default split</h2>
        <form class='weights-form' onSubmit={e => { e.preventDefault(); void run(`set weights of ${route}`, 'PUT', `/admin/routes/${enc}/weights`, { weights }) }}>
          {Object.keys(weights).map(b => (
            <label key={b}>
              {b}
              <input type='number' name={`weight-${b}`} min={0} step={1} value={weights[b]} onInput={e => setWeights({ ...weights, [b]: e.currentTarget.valueAsNumber })} />
            </label>
          ))}
          <button type='submit' disabled={busy || !edited || !valid || weightsPreview.diff === null}>Apply</button>
        </form>
        <WeightBar percent={valid ? percentOf(weights) : {}} order={order} label='after' />
        {!edited && <p class='hint'>Change a weight to see how much traffic would move.</p>}
        {edited && !valid && <p class='notice error'>Weights are whole numbers ≥ 0, at least one above 0.</p>}
        {weightsPreview.diff !== null && <DiffPreview diff={weightsPreview.diff} />}
        {weightsPreview.error !== null && <p class='notice error'>{weightsPreview.error}</p>}
      </section>

      <section class='card'>
        <h2>Promote</h2>
        <form class='inline' onSubmit={e => { e.preventDefault(); if (promote !== '') void run(`promote ${promote} on ${route}`, 'POST', `/admin/routes/${enc}/promote`, { backend: promote }) }}>
          <label>send all of {route} to{' '}
            <select name='promote' value={promote} onChange={e => setPromote(e.currentTarget.value)}>
              <option value=''>choose a backend…</option>
              {status.backends.map(b => <option key={b.name} value={b.name}>{b.name} ({b.version})</option>)}
            </select>
          </label>
          <button type='submit' disabled={busy || promote === ''}>Promote</button>
        </form>
      </section>

      <section class='card'>
        <h2>Roll back or undo</h2>
        <form class='inline' onSubmit={e => { e.preventDefault(); void run('rollback', 'POST', '/admin/rollback') }}>
          <span>Back to the revision before {basis.revision}:</span>
          <button type='submit' disabled={busy || !basis.history.entries.some(e => e.revision < basis.revision)}>Roll back</button>
        </form>
        <form class='inline' onSubmit={e => { e.preventDefault(); if (undoEntry !== undefined) void run(`undo to revision ${undoEntry.revision}`, 'POST', '/admin/undo', { toRevision: undoEntry.revision }) }}>
          <label>Undo to{' '}
            <select name='undo' value={String(undoTo)} onChange={e => setUndoTo(Number(e.currentTarget.value))}>
              <option value='0'>choose a revision…</option>
              {[...others].reverse().map(e => <option key={e.revision} value={String(e.revision)}>revision {e.revision} · {e.source} · {fmtAgo(e.time, Date.now())} · {e.summary}</option>)}
            </select>
          </label>
          <button type='submit' disabled={busy || undoEntry === undefined}>Undo</button>
        </form>
        {undoEntry !== undefined && undoPreview.diff !== null && <DiffPreview diff={undoPreview.diff} />}
        {undoPreview.error !== null && <p class='notice error'>{undoPreview.error}</p>}
        <p class='hint'>Each change is a new revision (the history keeps the earlier ones), so an undo can be undone.</p>
      </section>
    </>
  )
}

export const changePage: Page = { id: 'change', title: 'Change', component: ChangeView, perRoute: true }
