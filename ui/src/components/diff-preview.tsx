/** What POST /admin/diff says a candidate config would change: shares before → after, and users moving. */
import { fmtPercent } from '../format.js'
import type { DiffReply } from '../types.js'

export function DiffPreview ({ diff }: { diff: DiffReply }) {
  if (diff.changed.length === 0 && diff.routesAdded.length === 0 && diff.routesRemoved.length === 0) {
    return <p class='preview none' data-moves='0'>No traffic moves: {diff.summary}</p>
  }
  return (
    <div class='preview'>
      <p>Against revision {diff.revision}: {diff.summary}</p>
      {diff.changed.map(d => (
        <div key={`${d.route}/${d.part}`} class='preview-part'>
          <p><b>{d.route}</b> {d.part === 'default' ? 'default split' : `rule ${d.part}`}: {Object.entries(d.shares).map(([b, s]) => `${b} ${fmtPercent(s.before)} → ${fmtPercent(s.after)}`).join(', ')}</p>
          {d.sticky
            ? (
              <ul class='moves'>
                {d.moves.length === 0 && <li>no user changes backend</li>}
                {d.moves.map(m => <li key={`${m.from}>${m.to}`} data-from={m.from} data-to={m.to}><b>{fmtPercent(m.percent)}</b> of users move from {m.from} to {m.to}</li>)}
              </ul>
              )
            : <p class='hint'>not sticky: each request is drawn anew, so these are shares of requests, not users</p>}
        </div>
      ))}
      {diff.routesAdded.length > 0 && <p>routes added: {diff.routesAdded.join(', ')}</p>}
      {diff.routesRemoved.length > 0 && <p>routes removed: {diff.routesRemoved.join(', ')}</p>}
    </div>
  )
}
