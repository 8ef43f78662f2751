/** Issue 13's Done-when on a real 3-member etcd: 3 replicas, 20 edits, ≥ 20 000 requests (npm run test:fleet). */
import t from 'tap'
import { etcdMissing } from '../helpers/etcd-cluster.js'
import { etcdHarness } from '../helpers/fleet.js'
import { fleetSuite } from './fleet.suite.js'

const missing = etcdMissing()
if (missing !== undefined) t.fail(`the fleet suite needs etcd: ${missing}`)
else fleetSuite(t, etcdHarness, { replicas: 3, edits: 20, minRequests: 20_000, concurrency: 16 })
