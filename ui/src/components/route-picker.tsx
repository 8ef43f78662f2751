/** The route a per-route page shows, chosen from the running config's routes. */
import { href } from '../router.js'
import type { Status } from '../types.js'

export function RoutePicker ({ page, status, current }: { page: string, status: Status, current: string | null }) {
  return (
    <label class='picker'>
      route{' '}
      <select name='route' value={current ?? ''} onChange={e => { window.location.hash = href(page, e.currentTarget.value) }}>
        {status.routes.map(r => <option key={r.name} value={r.name}>{r.name}</option>)}
      </select>
    </label>
  )
}
