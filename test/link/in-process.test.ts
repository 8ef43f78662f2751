/** The plane link contract (link.case.ts) against a data plane in this process. */
import t from 'tap'
import { pino } from 'pino'
import { createDataPlane } from '../../src/dataplane/plane.js'
import { InProcessLink } from '../../src/link/in-process.js'
import { linkSuite } from './link.case.js'

linkSuite(t, first => new InProcessLink(createDataPlane({ logger: pino({ level: 'silent' }), settings: first.table.server })))
