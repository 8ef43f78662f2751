/**
 * History: the kept revisions (when, from where, what changed) and a line
 * diff of the config text between any two of them.
 */
import { useEffect, useState } from 'preact/hooks'
import { call } from '../api.js'
import { fmtAgo } from '../format.js'
import { diffRows, type Row } from '../line-diff.js'
import { href } from '../router.js'
import type { HistoryEntry, HistoryReply } from '../types.js'
import type { Page, PageProps } from './page.js'

const texts = new Map<number, string>()

/** A revision's config text; revisions never change, so each is fetched once per page load. */
async function configOf (revision: number): Promise<string> {
  const known = texts.get(revision)
  if (known !== undefined) return known
  const r = await call<HistoryEntry>('GET', `/admin/history/${revision}`)
  const text = r.body.config ?? ''
  texts.set(revision, text)
  return text
}

function DiffTable ({ rows }: { rows: readonly Row[] }) {
  if (rows.every(r => r.kind === 'same' || r.kind === 'fold')) return <p class='hint'>The two revisions have the same text.</p>
  return (
    <table class='diff'>
      <tbody>
        {rows.map((r, i) => r.kind === 'fold'
          ? <tr key={i} class='fold'><td colSpan={3}>⋯ {r.count} unchanged line{r.count === 1 ? '' : 's'}</td></tr>
          : (
            <tr key={i} class={r.kind}>
              <td class='no'>{r.oldNo ?? ''}</td>
              <td class='no'>{r.newNo ?? ''}</td>
              <td class='text'><span class='sign'>{r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' '}</span>{r.text}</td>
            </tr>
            ))}
      </tbody>
    </table>
  )
}

function HistoryView ({ status }: PageProps) {
  const [history, setHistory] = useState<HistoryReply | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [from, setFrom] = useState<number | null>(null)
  const [to, setTo] = useState<number | null>(null)
  const [rows, setRows] = useState<Row[] | null>(null)

  useEffect(() => {
    call<HistoryReply>('GET', '/admin/history').then(r => {
      setHistory(r.body)
      const revs = r.body.entries.map(e => e.revision)
      // By default: the latest change, the revision before the current one against the current one.
      setTo(t => t ?? revs.at(-1) ?? null)
      setFrom(f => f ?? revs.at(-2) ?? revs.at(-1) ?? null)
    }, (e: Error) => setError(e.message))
  }, [status.revision])

  useEffect(() => {
    if (from === null || to === null) return
    let cancelled = false
    Promise.all([configOf(from), configOf(to)]).then(([a, b]) => { if (!cancelled) setRows(diffRows(a, b)) }, (e: Error) => setError(e.message))
    return () => { cancelled = true }
  }, [from, to])

  if (error !== null) return <p class='notice error' role='alert'>{error}</p>
  if (history === null) return <p class='loading'>Loading…</p>
  const entries = [...history.entries].reverse()
  return (
    <>
      <h1>History</h1>
      <p class='hint'>Pick two revisions (A: before, B: after) to see what changed between them. Undo is on the <a href={href('change', status.routes[0]?.name ?? null)}>Change</a> page.</p>
      <table class='history'>
        <thead><tr><th>A</th><th>B</th><th>revision</th><th>when</th><th>source</th><th>what changed</th></tr></thead>
        <tbody>
          {entries.map(e => (
            <tr key={e.revision} data-revision={e.revision} class={e.current === true ? 'current' : ''}>
              <td><input type='radio' name='from' aria-label={`A: revision ${e.revision}`} checked={from === e.revision} onChange={() => setFrom(e.revision)} /></td>
              <td><input type='radio' name='to' aria-label={`B: revision ${e.revision}`} checked={to === e.revision} onChange={() => setTo(e.revision)} /></td>
              <td><b>{e.revision}</b>{e.current === true && <span class='tag'>running</span>}</td>
              <td title={e.time}>{new Date(e.time).toLocaleString()} <span class='hint'>({fmtAgo(e.time, Date.now())})</span></td>
              <td>{e.source}</td>
              <td>{e.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {from !== null && to !== null && (
        <section class='card'>
          <h2>revision {from} → revision {to}</h2>
          {rows === null ? <p class='loading'>Loading…</p> : <DiffTable rows={rows} />}
        </section>
      )}
    </>
  )
}

export const historyPage: Page = { id: 'history', title: 'History', component: HistoryView }
