/**
 * How the Kubernetes store maps its data onto API objects:
 * - the routing ConfigMap: the text under its data key; the switchyard
 *   revision and the text's sha256 in annotations (kubectl shows them);
 * - history: one ConfigMap per revision, NAME-rev-N, labelled with the
 *   routing ConfigMap it belongs to (the way a Deployment keeps ReplicaSets);
 * - members: one Lease per replica, NAME-member-ID, labelled the same way,
 *   its admin URL and applied revision in annotations;
 * - rollouts: one ConfigMap per route, NAME-rollout-ROUTE, labelled the same
 *   way, the state under `state.json`, updated with its resourceVersion.
 */
import { ApiException, V1MicroTime } from '@kubernetes/client-node'
import { sha256 } from './document.js'
import type { DocumentMeta } from './document.js'

export const REVISION_ANNOTATION = 'switchyard.io/revision'
export const SHA256_ANNOTATION = 'switchyard.io/sha256'
export const HISTORY_LABEL = 'switchyard.io/history-of'
export const MEMBER_LABEL = 'switchyard.io/member-of'
export const ROLLOUT_LABEL = 'switchyard.io/rollout-of'
/** The route a rollout ConfigMap belongs to: its name may have been hashed. */
export const ROUTE_ANNOTATION = 'switchyard.io/route'
export const ROLLOUT_KEY = 'state.json'
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'switchyard' }

/** The HTTP status of a failed API call, or undefined for a network error. */
export const httpStatus = (err: unknown): number | undefined => err instanceof ApiException ? err.code as number : undefined

export function metaOf (o: { metadata?: { annotations?: Record<string, string> } }): DocumentMeta | undefined {
  const a = o.metadata?.annotations ?? {}
  const revision = Number(a[REVISION_ANNOTATION])
  const hash = a[SHA256_ANNOTATION]
  if (!Number.isSafeInteger(revision) || revision < 0 || hash === undefined) return undefined
  return { revision, sha256: hash }
}

export function metaAnnotations (text: string, revision: number): Record<string, string> {
  return { [REVISION_ANNOTATION]: String(revision), [SHA256_ANNOTATION]: sha256(text) }
}

export const historyName = (configMap: string, revision: number): string => `${configMap}-rev-${revision}`

/** An object name for `id` (a member's pod name, a route): readable when the id is a DNS name, hashed otherwise. */
export function objectName (configMap: string, kind: 'member' | 'rollout', id: string): string {
  const readable = `${configMap}-${kind}-${id}`
  if (/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(id) && readable.length <= 253) return readable
  return `${configMap}-${kind}-${sha256(id).slice(0, 20)}`
}

/** Lease times travel as MicroTime: the API server refuses Date's three fractional digits. */
export const microTime = (ms: number): V1MicroTime => new V1MicroTime(ms)
