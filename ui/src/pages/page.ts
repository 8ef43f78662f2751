/**
 * What a page of the console is. Each page is its own file under pages/
 * and is listed in pages/index.ts; a page for a feature that not every
 * switchyard has (rollouts, a fleet) says so in `available`, which reads the
 * admin API's status, and the app shows it only where that holds.
 */
import type { FunctionComponent } from 'preact'
import type { Location } from '../router.js'
import type { Status } from '../types.js'

export interface PageProps {
  /** The latest GET /admin/status (polled by the app). */
  readonly status: Status
  /** Fetch the status again now (after a change). */
  readonly refresh: () => Promise<void>
  readonly location: Location
}

export interface Page {
  readonly id: string
  readonly title: string
  readonly component: FunctionComponent<PageProps>
  /** Whether this switchyard has what the page shows; default: always. */
  readonly available?: (status: Status) => boolean
  /** Pages about one route take the route's name as their argument. */
  readonly perRoute?: boolean
}
