/**
 * Overview: every route with its split, and per version how it is doing
 * now and over the last minutes (switchyard's in-memory samples, polled).
 */
import { useEffect, useMemo, useState } from 'preact/hooks'
import type { AlignedData } from 'uplot'
import { call, POLL_MS } from '../api.js'
import { Chart, type Line } from '../components/chart.js'
import { colourOf } from '../components/palette.js'
import { WeightBar } from '../components/weight-bar.js'
import { describeMatch, fmtCount, fmtPercent, fmtRate, fmtSeconds, fmtShare, latest } from '../format.js'
import { href } from '../router.js'
import { emptyStore, mergeSeries, type SeriesStore } from '../series-store.js'
import type { RouteStatus, Series, TimeseriesReply } from '../types.js'
import type { Page, PageProps } from './page.js'

/** Polls GET /admin/timeseries, the whole window first, then only newer samples. */
function useSeries (): SeriesStore {
  const [store, setStore] = useState(emptyStore)
  useEffect(() => {
    let since: number | null = null
    let stopped = false
    const poll = async (): Promise<void> => {
      try {
        const r = await call<TimeseriesReply>('GET', `/admin/timeseries${since === null ? '' : `?since=${since}`}`)
        if (stopped) return
        setStore(prev => {
          const next = mergeSeries(prev, r.body)
          since = next.since
          return next
        })
      } catch {
        // The status poll reports an unreachable API; the charts keep what they have.
      }
    }
    void poll()
    const timer = setInterval(() => { void poll() }, POLL_MS)
    return () => { stopped = true; clearInterval(timer) }
  }, [])
  return store
}

/** The route's series on one time axis (series that appeared later have gaps). */
function align (series: readonly Series[], pick: (s: Series, i: number) => number | null): AlignedData {
  const times = [...new Set(series.flatMap(s => s.points.t))].sort((a, b) => a - b)
  const at = new Map(times.map((t, i) => [t, i]))
  const columns = series.map(s => {
    const col: Array<number | null> = times.map(() => null)
    s.points.t.forEach((t, i) => { col[at.get(t) as number] = pick(s, i) })
    return col
  })
  return [times.map(t => t / 1000), ...columns] as AlignedData
}

function RouteCard ({ route, series, order, windowSeconds }: { route: RouteStatus, series: readonly Series[], order: readonly string[], windowSeconds: number }) {
  const lines: Line[] = series.map(s => ({ label: `${s.backend} ${s.version}`, colour: colourOf(s.backend, order) }))
  const charts = useMemo(() => ({
    rate: align(series, (s, i) => s.points.rate[i] ?? null),
    errors: align(series, (s, i) => s.points.errorShare[i] ?? null),
    sticky: align(series, (s, i) => s.points.sticky[i] ?? null)
  }), [series])
  // p50 (dashed) next to p99 (solid) for every version.
  const latency = useMemo((): AlignedData => {
    const p99 = align(series, (s, i) => s.points.p99[i] ?? null)
    const p50 = align(series, (s, i) => s.points.p50[i] ?? null)
    return [p99[0], ...p99.slice(1), ...p50.slice(1)] as AlignedData
  }, [series])
  const weights = route.default.percent
  return (
    <section class='card route' data-route={route.name}>
      <header>
        <h2><a href={href('route', route.name)}>{route.name}</a></h2>
        <span class='match'>{describeMatch(route.match)}</span>
        {route.sticky !== null && <span class='tag'>sticky by {Object.entries(route.sticky).map(([k, v]) => `${k} ${v}`).join('')}</span>}
        <a class='action' href={href('change', route.name)}>Change…</a>
      </header>
      <WeightBar percent={weights} order={order} label={`${route.name} default split`} />
      {route.rules.length > 0 && (
        <p class='rules'>rules first: {route.rules.map(r => `${r.name} → ${r.to ?? Object.entries(r.percent).map(([b, p]) => `${b} ${fmtPercent(p)}`).join(' / ')}`).join(' · ')}</p>
      )}
      <table class='versions'>
        <thead>
          <tr><th>backend</th><th>version</th><th>weight</th><th>requests/s</th><th>5xx</th><th>p50</th><th>p99</th><th>new users/min</th><th>requests</th></tr>
        </thead>
        <tbody>
          {series.length === 0 && <tr><td colSpan={9} class='hint'>no samples yet (every 5 s)</td></tr>}
          {series.map(s => (
            <tr key={`${s.backend}/${s.version}`} data-backend={s.backend}>
              <td><i class='swatch' style={{ background: colourOf(s.backend, order) }} /> {s.backend}</td>
              <td>{s.version}</td>
              <td data-col='weight'>{fmtPercent(weights[s.backend] ?? 0)}</td>
              <td data-col='rate'>{fmtRate(latest(s.points.rate))}</td>
              <td data-col='errors'>{fmtShare(latest(s.points.errorShare))}</td>
              <td data-col='p50'>{fmtSeconds(latest(s.points.p50))}</td>
              <td data-col='p99'>{fmtSeconds(latest(s.points.p99))}</td>
              <td data-col='sticky'>{fmtRate(60 * (latest(s.points.sticky) ?? NaN)).replace('/s', '')}</td>
              <td data-col='requests'>{fmtCount(latest(s.points.requests) ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {series.length > 0 && (
        <div class='charts'>
          <Chart title='requests/s' lines={lines} data={charts.rate} format={fmtRate} windowSeconds={windowSeconds} />
          <Chart title='5xx share' lines={lines} data={charts.errors} format={fmtShare} windowSeconds={windowSeconds} />
          <Chart title='latency p99 (p50 dashed)' lines={[...lines, ...lines.map(l => ({ ...l, dash: true }))]} data={latency} format={fmtSeconds} windowSeconds={windowSeconds} />
          <Chart title='new users/s' lines={lines} data={charts.sticky} format={fmtRate} windowSeconds={windowSeconds} />
        </div>
      )}
    </section>
  )
}

function Overview ({ status }: PageProps) {
  const store = useSeries()
  useEffect(() => { performance.mark('switchyard:overview-rendered') }, [])
  const order = status.backends.map(b => b.name)
  const byRoute = useMemo(() => {
    const m = new Map<string, Series[]>()
    for (const s of store.series.values()) m.set(s.route, [...(m.get(s.route) ?? []), s])
    return m
  }, [store])
  return (
    <>
      <h1>Overview</h1>
      <p class='hint'>{status.routes.length} route{status.routes.length === 1 ? '' : 's'} · measured by switchyard itself every 5 s, the last {Math.round(store.windowSeconds / 60)} minutes</p>
      {status.routes.map(r => <RouteCard key={r.name} route={r} series={byRoute.get(r.name) ?? []} order={order} windowSeconds={store.windowSeconds} />)}
    </>
  )
}

export const overviewPage: Page = { id: 'overview', title: 'Overview', component: Overview }
