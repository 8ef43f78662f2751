/**
 * The API objects of the fake API server: the two resources it serves, the
 * Status bodies of its errors (k8s.io/apimachinery/pkg/api/errors, same
 * reasons, codes and message wording), and the validation the real server
 * does on what switchyard sends.
 */

export type KubeObject = Record<string, unknown> & {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
}

export interface ObjectMeta {
  name: string
  namespace: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [field: string]: unknown
}

export interface Resource {
  /** Plural, as in URLs and Status details: configmaps, leases. */
  readonly plural: string
  readonly group: string
  readonly apiVersion: string
  readonly kind: string
  /** The parts of the object a PUT may change (an update that changes none is a no-op). */
  readonly body: readonly string[]
  /** Problems the real server reports for this kind: [HTTP status, message] or undefined. */
  readonly check: (o: KubeObject) => [number, string] | undefined
}

export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: { name?: string, group?: string, kind?: string, uid?: string }
  code: number
}

export const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Expired', 422: 'Invalid', 500: 'InternalError'
}

export function status (code: number, message: string, reason = REASONS[code] ?? 'Unknown', details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details === undefined ? {} : { details }), code }
}

/** `configmaps "x"` or `leases.coordination.k8s.io "x"`, as the server names objects in messages. */
export const qualified = (r: Resource, name: string): string => `${r.plural}${r.group === '' ? '' : `.${r.group}`} "${name}"`

const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/
const DATA_KEY = /^[-._a-zA-Z0-9]+$/
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const cannotHandle = (kind: string, why: string): [number, string] => [400, `${kind} in version "v1" cannot be handled as a ${kind}: ${why}`]

function checkConfigMap (o: KubeObject): [number, string] | undefined {
  const data = o.data
  if (data === undefined || data === null) return undefined
  if (typeof data !== 'object') return cannotHandle('ConfigMap', 'data must be an object')
  let size = 0
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') return cannotHandle('ConfigMap', `json: cannot unmarshal ${typeof v} into Go struct field ConfigMap.data of type string`)
    if (!DATA_KEY.test(k)) return [422, `ConfigMap "${o.metadata.name}" is invalid: data[${k}]: Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`]
    size += k.length + Buffer.byteLength(v)
  }
  if (size > 1024 * 1024) return [422, `ConfigMap "${o.metadata.name}" is invalid: []: Too long: must have at most 1048576 bytes`]
  return undefined
}

function checkLease (o: KubeObject): [number, string] | undefined {
  const spec = (o.spec ?? {}) as Record<string, unknown>
  for (const field of ['acquireTime', 'renewTime']) {
    const v = spec[field]
    // MicroTime is parsed with exactly six fractional digits; Date#toISOString's three are refused.
    if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) {
      return cannotHandle('Lease', `parsing time "${String(v)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`)
    }
  }
  const d = spec.leaseDurationSeconds
  if (d !== undefined && d !== null && (!Number.isInteger(d) || (d as number) <= 0)) {
    return [422, `Lease.coordination.k8s.io "${o.metadata.name}" is invalid: spec.leaseDurationSeconds: Invalid value: ${String(d)}: must be greater than 0`]
  }
  const t = spec.leaseTransitions
  if (t !== undefined && t !== null && (!Number.isInteger(t) || (t as number) < 0)) {
    return [422, `Lease.coordination.k8s.io "${o.metadata.name}" is invalid: spec.leaseTransitions: Invalid value: ${String(t)}: must be greater than or equal to 0`]
  }
  return undefined
}

export const RESOURCES: readonly Resource[] = [
  { plural: 'configmaps', group: '', apiVersion: 'v1', kind: 'ConfigMap', body: ['data', 'binaryData', 'immutable'], check: checkConfigMap },
  { plural: 'leases', group: 'coordination.k8s.io', apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', body: ['spec'], check: checkLease }
]

/** What a PUT compares to decide it is a no-op (the server then keeps the resourceVersion and sends no event). */
export function userContent (r: Resource, o: KubeObject): string {
  const m = o.metadata
  return JSON.stringify([m.labels ?? {}, m.annotations ?? {}, m.ownerReferences ?? [], m.finalizers ?? [], ...r.body.map(k => o[k] ?? null)])
}
