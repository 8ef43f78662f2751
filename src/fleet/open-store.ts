/** `--store URL` → the RoutingStore it names (see store-url.ts for the forms). */
import { parseDuration } from '../util/duration.js'
import { EtcdStore } from './etcd-store.js'
import { KubeStore } from './kube-store.js'
import { DEFAULT_LEADER_TIMING, type LeaderTiming } from './lease-elector.js'
import { StoreError } from './store-error.js'
import type { RoutingStore } from './store.js'
import { parseStoreUrl, type StoreLocation } from './store-url.js'

export interface LeaseTimings {
  readonly leader: LeaderTiming
  /** A dead replica leaves the member list after this (before a dead leader's lease runs out, so its successor's first look can read every live member). */
  readonly memberTtlSeconds: number
}

/**
 * `$SWITCHYARD_LEASE_DURATION` (default 15s, as Argo Rollouts and client-go):
 * the leader's lease, so how long a dead leader's jobs wait for a successor.
 * The renew deadline, retry period and member TTL keep client-go's
 * 15 s / 10 s / 2 s proportions (member TTL = renew deadline).
 */
export function leaseTimings (env: NodeJS.ProcessEnv = process.env): LeaseTimings {
  const text = env.SWITCHYARD_LEASE_DURATION
  let leaseDurationMs = DEFAULT_LEADER_TIMING.leaseDurationMs
  if (text !== undefined && text !== '') {
    try {
      leaseDurationMs = parseDuration(text)
    } catch (err) {
      throw new StoreError('SY_ERR_STORE_URL', `SWITCHYARD_LEASE_DURATION: ${(err as Error).message}`)
    }
    if (leaseDurationMs < 2000) throw new StoreError('SY_ERR_STORE_URL', `SWITCHYARD_LEASE_DURATION=${text}: at least 2s (etcd's shortest lease)`)
  }
  const renewDeadlineMs = Math.round(leaseDurationMs * 2 / 3)
  return {
    leader: { leaseDurationMs, renewDeadlineMs, retryPeriodMs: Math.round(leaseDurationMs / 7.5) },
    memberTtlSeconds: Math.max(1, Math.round(renewDeadlineMs / 1000))
  }
}

export function openStore (url: string | StoreLocation, env: NodeJS.ProcessEnv = process.env): RoutingStore {
  const location = typeof url === 'string' ? parseStoreUrl(url) : url
  const { leader, memberTtlSeconds } = leaseTimings(env)
  if (location.kind === 'etcd') return new EtcdStore({ hosts: location.hosts, prefix: location.prefix, leaseDurationMs: leader.leaseDurationMs, memberTtlSeconds })
  return new KubeStore({ namespace: location.namespace, configMap: location.configMap, key: location.key, leader, memberTtlSeconds })
}
