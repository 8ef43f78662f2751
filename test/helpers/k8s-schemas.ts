/**
 * Kubernetes schema validation of rendered objects, through the
 * kubernetes-models package (the API's OpenAPI schemas, compiled), plus
 * prometheus-operator's CRDs. A kind without a schema here is an error, so
 * nothing reaches a cluster unchecked.
 */
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Service, type IService } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor'
import type { K8sObject } from './kustomize.js'

interface Validatable { validate (): void }

// The constructors take the object without apiVersion/kind; passing them
// along is harmless (they are the same constants) and keeps this table flat.
const MODELS: Record<string, (o: K8sObject) => Validatable> = {
  'apps/v1/Deployment': o => new Deployment(o as unknown as ConstructorParameters<typeof Deployment>[0]),
  'autoscaling/v2/HorizontalPodAutoscaler': o => new HorizontalPodAutoscaler(o as unknown as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]),
  'policy/v1/PodDisruptionBudget': o => new PodDisruptionBudget(o as unknown as ConstructorParameters<typeof PodDisruptionBudget>[0]),
  'v1/ConfigMap': o => new ConfigMap(o as unknown as ConstructorParameters<typeof ConfigMap>[0]),
  'v1/Service': o => new Service(o as unknown as ConstructorParameters<typeof Service>[0]),
  'v1/ServiceAccount': o => new ServiceAccount(o as unknown as ConstructorParameters<typeof ServiceAccount>[0]),
  'rbac.authorization.k8s.io/v1/Role': o => new Role(o as unknown as ConstructorParameters<typeof Role>[0]),
  'rbac.authorization.k8s.io/v1/RoleBinding': o => new RoleBinding(o as unknown as ConstructorParameters<typeof RoleBinding>[0]),
  'monitoring.coreos.com/v1/PodMonitor': o => new PodMonitor(o as unknown as ConstructorParameters<typeof PodMonitor>[0])
}

/** The schema's complaint about `o`, or undefined when it is valid. */
export function schemaError (o: K8sObject): string | undefined {
  const model = MODELS[`${o.apiVersion}/${o.kind}`]
  if (model === undefined) return `no schema for ${o.apiVersion} ${o.kind}`
  try {
    model(o).validate()
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** Typed views, for objects that passed schemaError(). */
export const deploymentsOf = (objs: readonly K8sObject[]): IDeployment[] => objs.filter(o => o.kind === 'Deployment') as unknown as IDeployment[]
export const servicesOf = (objs: readonly K8sObject[]): IService[] => objs.filter(o => o.kind === 'Service') as unknown as IService[]
export const configMapsOf = (objs: readonly K8sObject[]): IConfigMap[] => objs.filter(o => o.kind === 'ConfigMap') as unknown as IConfigMap[]
