/**
 * The fleet wiring, small enough for `npm test`: two replicas on the fake
 * Kubernetes API server through the whole Done-when suite (fleet.suite.ts).
 * `npm run test:fleet` runs the same suite at full size on etcd and Kubernetes.
 */
import t from 'tap'
import { kubeHarness } from '../helpers/fleet.js'
import { fleetSuite } from './fleet.suite.js'

fleetSuite(t, kubeHarness, { replicas: 2, edits: 2, minRequests: 200, concurrency: 2 })
