/**
 * Rollouts: per rollout its steps, where it stands, and the judge's last
 * verdict with every number behind it (per arm requests, errors and slow
 * requests; per test the statistic, p-value and level; α, δ and the rule
 * that decided), the same numbers as `switchyard rollout status`; the
 * commands pause / resume / promote / abort; and a form to start one.
 *
 * The rollout commands take no If-Match: the controller applies them one at
 * a time and refuses one its phase does not allow (409), which the page
 * shows; after a command the page shows the rollout as the API returned it,
 * naming the step it is at now.
 */
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError, call, POLL_MS } from '../api.js'
import { WeightBar } from '../components/weight-bar.js'
import { fmtAgo, fmtCount, fmtSeconds, fmtShare, fmtStat } from '../format.js'
import { commandsFor, isActive, outcomeOf, parsePercentList, stepsOf, type Command } from '../rollout-view.js'
import type { JudgeMetric, JudgeTest, Rollout, RolloutsReply, Status, Verdict } from '../types.js'
import type { Page, PageProps } from './page.js'

const LABELS: Readonly<Record<Command, string>> = { pause: 'Pause', resume: 'Resume', promote: 'Promote', abort: 'Abort…' }

type Notice = { readonly kind: 'ok' | 'error', readonly text: string } | null

function errorText (what: string, e: unknown): string {
  if (e instanceof ApiError) return `${what} failed: ${e.message}${e.code.startsWith('SY_ERR_') ? ` [${e.code}]` : ''}`
  return `${what} failed: ${(e as Error).message}`
}

function TestRow ({ metric, name, test }: { metric: string, name: string, test: JudgeTest }) {
  return (
    <tr data-test={`${metric}.${name}`} class={test.rejected ? 'rejected' : ''}>
      <td>{metric}</td>
      <td>{name}</td>
      <td class='hint'>{test.hypothesis}</td>
      <td data-col='bf'>{fmtStat(test.bayesFactor)}</td>
      <td data-col='p'>{fmtStat(test.pValue)}</td>
      <td data-col='level'>{fmtStat(test.level)}</td>
      <td>{test.rejected ? 'rejected' : '–'}</td>
    </tr>
  )
}

function metricRows (metric: string, m: JudgeMetric) {
  return [
    <TestRow key={`${metric}w`} metric={metric} name='worse' test={m.worse} />,
    <TestRow key={`${metric}n`} metric={metric} name='no worse' test={m.noWorse} />,
    <TestRow key={`${metric}t`} metric={metric} name='tolerance' test={m.negligible} />
  ]
}

function MetricLine ({ name, m }: { name: string, m: JudgeMetric }) {
  return (
    <li data-metric={name}>
      <b>{name}</b>: canary {fmtShare(m.canaryRate)}, baseline {fmtShare(m.baselineRate)}, ratio {m.ratio === undefined ? '–' : fmtStat(m.ratio)}
      {m.ratioUpper !== undefined && <> (upper bound {fmtStat(m.ratioUpper)})</>}; <span data-col='delta'>δ {fmtStat(m.delta)}</span>, tolerance {fmtShare(m.tolerance)}
    </li>
  )
}

function VerdictView ({ v }: { v: Verdict }) {
  const e = v.exposure
  const slow = v.threshold === undefined ? 'slow' : `slow (> ${fmtSeconds(v.threshold.seconds)})`
  return (
    <section class='verdict' data-outcome={v.outcome} data-rule={v.rule}>
      <h3>Last look <span class='hint'>{fmtAgo(new Date(v.at).toISOString(), Date.now())}</span>: <b class='outcome'>{v.outcome}</b> by rule <code class='rule'>{v.rule}</code></h3>
      <p class='reason'>{v.reason}</p>
      <table class='arms'>
        <thead><tr><th>arm</th><th>requests</th><th>errors</th><th>{slow}</th></tr></thead>
        <tbody>
          {(['canary', 'baseline'] as const).map(arm => (
            <tr key={arm} data-arm={arm}>
              <td>{arm}</td>
              <td data-col='requests'>{fmtCount(v[arm].requests)}</td>
              <td data-col='errors'>{fmtCount(v[arm].errors)}</td>
              <td data-col='slow'>{v[arm].slow === undefined ? '–' : fmtCount(v[arm].slow)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul class='judge-facts'>
        <li data-col='alpha'>α {fmtStat(v.alpha)}; canary weight {fmtShare(v.weight)} of the two arms, observed {fmtShare(v.rho)}</li>
        <li>step ran {fmtSeconds(e.elapsedMs / 1000)} (min {fmtSeconds(e.minStepMs / 1000)}, max {fmtSeconds(e.maxStepMs / 1000)}); {e.minRequests} requests per arm needed{e.met ? '' : ' (not yet)'}</li>
        <MetricLine name='errors' m={v.errors} />
        {v.latency === undefined ? <li>latency not judged this step (no SLO and no baseline traffic before it)</li> : <MetricLine name='latency' m={v.latency} />}
      </ul>
      <table class='tests'>
        <thead><tr><th>metric</th><th>test</th><th>hypothesis</th><th>statistic (Bayes factor)</th><th>p-value</th><th>level</th><th /></tr></thead>
        <tbody>
          {metricRows('errors', v.errors)}
          {v.latency !== undefined && metricRows('latency', v.latency)}
          <TestRow metric='sample ratio' name='low' test={v.srm.low} />
          <TestRow metric='sample ratio' name='high' test={v.srm.high} />
          {v.guardrails.map(g => <TestRow key={g.name} metric={`guardrail ${g.name} ≤ ${fmtStat(g.limit)}`} name={`${g.events} of ${g.units}`} test={g.test} />)}
        </tbody>
      </table>
    </section>
  )
}

function RolloutCard ({ r, order, onChanged, onRefused }: { r: Rollout, order: readonly string[], onChanged: (r: Rollout) => void, onRefused: () => void }) {
  const [busy, setBusy] = useState(false)
  const [notice, setNotice] = useState<Notice>(null)
  const [full, setFull] = useState(false)
  // Abort puts the starting weights back at once: asked twice, as Argo's dashboard does.
  const [confirming, setConfirming] = useState(false)
  const why = r.pauseReason ?? r.abortReason
  const run = async (command: Command): Promise<void> => {
    setBusy(true)
    try {
      const reply = await call<Rollout>('POST', `/admin/rollouts/${encodeURIComponent(r.route)}/${command}`, command === 'promote' ? { body: { full } } : {})
      setNotice({ kind: 'ok', text: outcomeOf(command, r, reply.body) })
      onChanged(reply.body)
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(command, e) })
      // Refused: the rollout moved on meanwhile (another operator, the judge); show it as it is now.
      onRefused()
    } finally {
      setBusy(false)
    }
  }
  const others = 100 - r.weight
  return (
    <section class='card rollout' data-route={r.route} data-phase={r.phase}>
      <header>
        <h2>{r.route}</h2>
        <span class={`phase ${r.phase.toLowerCase()}`}>{r.phase}{why !== undefined && <> ({why})</>}</span>
        <span class='hint'>{r.canary} against {r.baseline} · step <b class='step'>{r.step.index + 1}/{r.steps.length}</b> · canary at <b class='weight'>{r.weight} %</b></span>
      </header>
      <ol class='steps'>
        {stepsOf(r).map((s, i) => (
          <li key={i} class={s.state} aria-current={s.state === 'current' ? 'step' : undefined}>{s.percent} %{s.gate && <span class='tag'>gate</span>}</li>
        ))}
      </ol>
      <WeightBar percent={{ [r.canary]: r.weight, [`${r.baseline} and others`]: others }} order={[r.canary, ...order]} label='canary weight' />
      <p class='message'>{r.message}</p>
      {isActive(r) && (
        <div class='commands'>
          {commandsFor(r.phase).map(c => (
            <button key={c} type='button' name={c} disabled={busy || confirming} onClick={() => { if (c === 'abort') setConfirming(true); else void run(c) }}>{LABELS[c]}</button>
          ))}
          <label class='hint'><input type='checkbox' name='full' checked={full} onChange={e => setFull(e.currentTarget.checked)} /> promote in full (100 % now)</label>
        </div>
      )}
      {isActive(r) && confirming && (
        <p class='notice conflict confirm-abort' role='alert'>
          Abort the rollout of {r.route}? The weights it started from come back ({Object.entries(r.startWeights).map(([b, w]) => `${b} ${w}`).join(', ')}).{' '}
          <button type='button' name='confirm-abort' disabled={busy} onClick={() => { setConfirming(false); void run('abort') }}>Abort</button>{' '}
          <button type='button' name='cancel-abort' class='link' onClick={() => setConfirming(false)}>Cancel</button>
        </p>
      )}
      {notice !== null && <p class={`notice ${notice.kind}`} role={notice.kind === 'ok' ? 'status' : 'alert'}>{notice.text}</p>}
      {r.lastVerdict === undefined ? <p class='hint'>No look at this step yet.</p> : <VerdictView v={r.lastVerdict} />}
      {r.decisions.length > 0 && (
        <details class='decisions'>
          <summary>{r.decisions.length} decision{r.decisions.length === 1 ? '' : 's'}</summary>
          <ol>{[...r.decisions].reverse().map((d, i) => <li key={i}><span class='hint'>{d.at}</span> step {d.step} ({d.weight} %): <b>{d.outcome}</b> ({d.rule}) → {d.action}: {d.reason}</li>)}</ol>
        </details>
      )}
      <p class='hint'>Started {fmtAgo(r.createdAt, Date.now())} from revision {r.startRevision}; abort restores {Object.entries(r.startWeights).map(([b, w]) => `${b} ${w}`).join(', ')}.</p>
    </section>
  )
}

/** Start a rollout: route, canary, optional baseline, steps and manual gates (judge settings: CLI or API). */
function StartForm ({ status, busyRoutes, onStarted }: { status: Status, busyRoutes: ReadonlySet<string>, onStarted: (r: Rollout) => void }) {
  const splits = status.routes.filter(r => r.default.weights !== undefined)
  const [route, setRoute] = useState(splits.find(r => !busyRoutes.has(r.name))?.name ?? splits[0]?.name ?? '')
  const split = splits.find(r => r.name === route)?.default
  const backends = Object.keys(split?.weights ?? {})
  // The usual canary is the route's lightest backend.
  const lightest = [...backends].sort((a, b) => (split?.percent[a] ?? 0) - (split?.percent[b] ?? 0))[0] ?? ''
  const [canary, setCanary] = useState('')
  const [baseline, setBaseline] = useState('')
  const [steps, setSteps] = useState('5, 25, 50, 100')
  const [gates, setGates] = useState('')
  const [notice, setNotice] = useState<Notice>(null)
  const chosen = backends.includes(canary) ? canary : lightest

  if (splits.length === 0) return <p class='hint'>No route has a weighted split to roll out on.</p>
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault()
    const s = parsePercentList(steps)
    const g = parsePercentList(gates)
    const bad = [...s.bad, ...g.bad]
    if (bad.length > 0) {
      setNotice({ kind: 'error', text: `not a percentage: ${bad.join(', ')}` })
      return
    }
    try {
      const body = { route, backend: chosen, steps: s.values, ...(g.values.length > 0 ? { pauseAt: g.values } : {}), ...(backends.includes(baseline) ? { baseline } : {}) }
      const reply = await call<Rollout>('POST', '/admin/rollouts', { body })
      setNotice({ kind: 'ok', text: `started on ${route}: ${reply.body.message}` })
      onStarted(reply.body)
    } catch (e) {
      setNotice({ kind: 'error', text: errorText('start', e) })
    }
  }
  return (
    <section class='card'>
      <h2>Start a rollout</h2>
      <form class='weights-form start-rollout' onSubmit={ev => { void submit(ev) }}>
        <label>route
          <select name='route' value={route} onChange={e => { setRoute(e.currentTarget.value); setCanary(''); setBaseline('') }}>
            {splits.map(r => <option key={r.name} value={r.name}>{r.name}{busyRoutes.has(r.name) ? ' (has one)' : ''}</option>)}
          </select>
        </label>
        <label>canary
          <select name='canary' value={chosen} onChange={e => setCanary(e.currentTarget.value)}>
            {backends.map(b => <option key={b} value={b}>{b}</option>)}
          </select>
        </label>
        <label>baseline
          <select name='baseline' value={baseline} onChange={e => setBaseline(e.currentTarget.value)}>
            <option value=''>the heaviest other</option>
            {backends.filter(b => b !== chosen).map(b => <option key={b} value={b}>{b}</option>)}
          </select>
        </label>
        <label>steps (% of the route)
          <input name='steps' value={steps} onInput={e => setSteps(e.currentTarget.value)} />
        </label>
        <label>manual gates after (%)
          <input name='pause-at' value={gates} placeholder='e.g. 50' onInput={e => setGates(e.currentTarget.value)} />
        </label>
        <button type='submit'>Start</button>
      </form>
      <p class='hint'>Judged with the judge's default settings (min step, max step, α, δ, tolerances: see <code>switchyard rollout start --help</code>); others through <code>switchyard rollout start</code> or <code>POST /admin/rollouts</code>.</p>
      {notice !== null && <p class={`notice ${notice.kind}`} role={notice.kind === 'ok' ? 'status' : 'alert'}>{notice.text}</p>}
    </section>
  )
}

function RolloutsPage ({ status, refresh }: PageProps) {
  const [rollouts, setRollouts] = useState<readonly Rollout[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(async () => {
    try {
      setRollouts((await call<RolloutsReply>('GET', '/admin/rollouts')).body.rollouts)
      setError(null)
    } catch (e) {
      setError((e as Error).message)
    }
  }, [])
  useEffect(() => {
    void load()
    const timer = setInterval(() => { void load() }, POLL_MS)
    return () => clearInterval(timer)
  }, [load])
  // A command's answer is the rollout now: shown at once, then the status (weights, revision) and the list again.
  const changed = (r: Rollout): void => {
    setRollouts(rs => [...(rs ?? []).filter(x => x.route !== r.route), r])
    void refresh()
    void load()
  }
  const order = status.backends.map(b => b.name)
  const sorted = [...(rollouts ?? [])].sort((a, b) => Number(isActive(b)) - Number(isActive(a)) || a.route.localeCompare(b.route))
  return (
    <>
      <h1>Rollouts</h1>
      {error !== null && <p class='notice error' role='alert'>{error}</p>}
      {rollouts === null && error === null && <p class='loading'>Loading…</p>}
      {rollouts !== null && rollouts.length === 0 && <p class='hint empty'>No rollouts. Start one below, or with <code>switchyard rollout start ROUTE CANARY --steps 5,25,50,100</code>.</p>}
      {sorted.map(r => <RolloutCard key={`${r.route}@${r.createdAt}`} r={r} order={order} onChanged={changed} onRefused={() => { void load() }} />)}
      {rollouts !== null && <StartForm status={status} busyRoutes={new Set(rollouts.filter(isActive).map(r => r.route))} onStarted={changed} />}
    </>
  )
}

export const rolloutsPage: Page = { id: 'rollouts', title: 'Rollouts', component: RolloutsPage }
