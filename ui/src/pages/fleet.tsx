/**
 * Fleet: the replicas sharing the routing (`serve --store`), the revision
 * each applies, the stale ones flagged, and the leader. A single instance is
 * a fleet of one. Read from the status the app already polls.
 */
import { fleetView } from '../fleet-view.js'
import { fmtAgo } from '../format.js'
import type { Page, PageProps } from './page.js'

function FleetPage ({ status }: PageProps) {
  const view = fleetView(status, window.location.origin)
  const now = Date.now()
  const stale = view.members.filter(m => m.stale !== null).length
  return (
    <>
      <h1>Fleet</h1>
      <p class='hint' data-shared={String(view.shared)}>
        {view.shared
          ? <>{view.members.length} replica{view.members.length === 1 ? '' : 's'} on <code>{view.store}</code>, at revision <b>{view.revision}</b>; leader <b class='leader-name'>{view.leader ?? 'none'}</b>.</>
          : <>A single instance (no shared store: <code>serve --store</code> makes a fleet): a fleet of one, which leads itself.</>}
        {stale > 0 && <> <b class='stale-count'>{stale} stale.</b></>}
      </p>
      {view.problem !== null && <p class='notice error' role='alert'>{view.problem}</p>}
      <table class='fleet'>
        <thead><tr><th>replica</th><th>revision</th><th>synced</th><th>admin API</th><th>state</th></tr></thead>
        <tbody>
          {view.members.map(m => (
            <tr key={m.id} data-replica={m.id} class={m.stale === null ? '' : 'stale'}>
              <td><b>{m.id}</b>{m.self && <span class='tag'>this page</span>}{m.leader && <span class='tag leader'>leader</span>}</td>
              <td data-col='revision'>{m.revision}</td>
              <td title={m.syncedAt ?? ''}>{m.syncedAt === null ? '–' : fmtAgo(m.syncedAt, now)}</td>
              <td><code>{m.adminUrl}</code></td>
              <td data-col='state'>{m.stale === null ? 'current' : <span class='flag'>stale: {m.stale}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

export const fleetPage: Page = { id: 'fleet', title: 'Fleet', component: FleetPage }
