/**
 * How the rollout demo moves traffic: through the admin API, as an operator
 * would with `switchyard set-weight` and `switchyard undo` (the same client
 * code). Each call answers once the new revision serves, so the demo knows
 * exactly when a step is live.
 */
import { stringify } from 'yaml'
import type { RawConfig } from '../config/schema.js'
import { AdminClient } from '../commands/admin-client.js'
import type { SwitchyardProcess } from './switchyard-process.js'

export interface DemoBackends {
  /** Targets of the current version (0.5) and of the new one (0.6). */
  readonly stable: readonly string[]
  readonly next: readonly string[]
}

/** The demo's whole config: one route, split between the two versions. */
export function rolloutConfig (backends: DemoBackends, percentNext: number): string {
  const config: RawConfig = {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    // Nothing balances traffic onto this one-machine demo, so its SIGTERM at the end needs no drain.
    shutdown: { drainDelay: '0s' },
    backends: {
      stable: { version: '0.5', targets: [...backends.stable] },
      next: { version: '0.6', targets: [...backends.next] }
    },
    routes: [{ name: 'testpage', split: { stable: 100 - percentNext, next: percentNext } }]
  }
  return stringify(config)
}

interface ChangeReply { revision: number, summary: string }

/** `switchyard set-weight testpage stable=… next=…`: sends `percentNext` % of new requests to 0.6. */
export async function setWeights (sy: SwitchyardProcess, percentNext: number): Promise<string> {
  const admin = new AdminClient(sy.adminUrl)
  const status = await admin.call('GET', '/admin/status')
  const reply = await admin.call<ChangeReply>('PUT', '/admin/routes/testpage/weights', { weights: { stable: 100 - percentNext, next: percentNext } }, status.etag)
  return `revision ${reply.body.revision}: ${reply.body.summary}`
}

/** `switchyard undo --to-revision N`: the rollback. */
export async function undoTo (sy: SwitchyardProcess, revision: number): Promise<string> {
  const admin = new AdminClient(sy.adminUrl)
  const status = await admin.call('GET', '/admin/status')
  const reply = await admin.call<ChangeReply>('POST', '/admin/undo', { toRevision: revision }, status.etag)
  return `revision ${reply.body.revision}: ${reply.body.summary}`
}
