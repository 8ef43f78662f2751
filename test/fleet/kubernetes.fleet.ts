/** Issue 13's Done-when on the fake Kubernetes API server: 3 replicas, 20 edits, ≥ 20 000 requests (npm run test:fleet). */
import t from 'tap'
import { kubeHarness } from '../helpers/fleet.js'
import { fleetSuite } from './fleet.suite.js'

fleetSuite(t, kubeHarness, { replicas: 3, edits: 20, minRequests: 20_000, concurrency: 16 })
