/**
 * Finds, in rendered manifests, every container that runs `switchyard
 * serve`, with the config it will read: the ConfigMap key behind the file
 * its --config names, through the volume mounted on that file's directory.
 */
import { basename, dirname } from 'node:path'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec'
import type { IVolume } from 'kubernetes-models/v1/Volume'
import { parse } from 'yaml'
import type { RawConfig } from '../../src/config/schema.js'
import { configMapsOf, deploymentsOf } from './k8s-schemas.js'
import type { K8sObject } from './kustomize.js'

export interface SwitchyardPod {
  /** "Deployment/client (sidecar)", for messages. */
  readonly name: string
  readonly deployment: IDeployment
  readonly pod: IPodSpec
  readonly container: IContainer
  /** A native sidecar: an init container that keeps running. */
  readonly sidecar: boolean
  readonly configPath: string
  readonly configVolume: IVolume | undefined
  /** The text of the config file the container will read, if the manifests provide it. */
  readonly configText: string | undefined
}

const runsServe = (c: IContainer): boolean => (c.image ?? '').startsWith('switchyard:') && c.args?.[0] === 'serve'

export function switchyardPods (objects: readonly K8sObject[]): SwitchyardPod[] {
  const configMaps = configMapsOf(objects)
  const found: SwitchyardPod[] = []
  for (const deployment of deploymentsOf(objects)) {
    const pod = deployment.spec?.template.spec
    if (pod === undefined) continue
    const candidates = [...(pod.initContainers ?? []).map(c => ({ c, sidecar: true })), ...pod.containers.map(c => ({ c, sidecar: false }))]
    for (const { c: container, sidecar } of candidates.filter(x => runsServe(x.c))) {
      const args = container.args ?? []
      const configPath = args[args.indexOf('--config') + 1] ?? ''
      const mount = container.volumeMounts?.find(m => m.mountPath === dirname(configPath))
      const configVolume = pod.volumes?.find(v => v.name === mount?.name)
      const cm = configMaps.find(m => m.metadata?.name === configVolume?.configMap?.name)
      found.push({
        name: `Deployment/${deployment.metadata?.name ?? '?'}${sidecar ? ' (sidecar)' : ''}`,
        deployment,
        pod,
        container,
        sidecar,
        configPath,
        configVolume,
        configText: cm?.data?.[basename(configPath)]
      })
    }
  }
  return found
}

export function parseConfig (text: string | undefined): RawConfig {
  return parse(text ?? '') as RawConfig
}
