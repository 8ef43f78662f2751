/**
 * How the rollout demo moves traffic: the one function to swap for the admin
 * API once it exists (the rest of the demo only calls `setWeights`).
 *
 * Today it rewrites the config file atomically — write a temporary file in
 * the same directory, then rename it over the config — so the watcher never
 * sees a half-written file, and waits until switchyard logs that it applied
 * exactly that content (the log carries the file's sha256).
 */
import { createHash } from 'node:crypto'
import { rename, writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import type { RawConfig } from '../config/schema.js'
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
    backends: {
      stable: { version: '0.5', targets: [...backends.stable] },
      next: { version: '0.6', targets: [...backends.next] }
    },
    routes: [{ name: 'testpage', split: { stable: 100 - percentNext, next: percentNext } }]
  }
  return stringify(config)
}

/** Sends `percentNext` % of new requests to 0.6; resolves once switchyard serves with it. */
export async function setWeights (sy: SwitchyardProcess, backends: DemoBackends, percentNext: number): Promise<void> {
  const text = rolloutConfig(backends, percentNext)
  const sha = createHash('sha256').update(text).digest('hex').slice(0, 12)
  // Listen before renaming: the reload can be logged before rename() returns.
  const applied = sy.waitForLog(l => l.msg === 'config reloaded' && l.sha256 === sha, 5_000)
  const tmp = `${sy.configFile}.tmp-${process.pid}`
  try {
    await writeFile(tmp, text)
    await rename(tmp, sy.configFile)
  } catch (err) {
    applied.catch(() => {})
    throw err
  }
  await applied
}
