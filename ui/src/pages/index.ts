/**
 * The console's pages, in the order of the navigation bar. A new page is a
 * new file under pages/ and one line here; see page.ts for `available`.
 */
import type { Page } from './page.js'
import { overviewPage } from './overview.js'
import { routePage } from './route.js'
import { changePage } from './change.js'
import { historyPage } from './history.js'
import { rolloutsPage } from './rollouts.js'
import { fleetPage } from './fleet.js'

export const PAGES: readonly Page[] = [overviewPage, routePage, changePage, historyPage, rolloutsPage, fleetPage]
