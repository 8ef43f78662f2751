/**
 * Renders the kustomize folders under k8s/ with `kubectl kustomize`, as a
 * user's `kubectl apply -k` would. kubectl is $KUBECTL or the one on PATH,
 * and its kustomize must be v5 or newer (`.ci/kubectl` installs one).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { repoPath } from './repo.js'

export const KUBECTL = process.env.KUBECTL ?? 'kubectl'

/** Why rendering cannot run here, or undefined when it can. */
export function kustomizeMissing (): string | undefined {
  const r = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' })
  if (r.error !== undefined) return `${KUBECTL}: ${r.error.message}`
  const v = /^Kustomize Version: v(\d+)\./m.exec(r.stdout)
  if (v === null || Number(v[1]) < 5) return `${KUBECTL} has no kustomize v5 or newer (${r.stdout.trim()})`
  return undefined
}

/** Every folder under k8s/ with a kustomization.yaml, relative to the repo ("k8s/base", …). */
export function kustomizeDirs (root = repoPath('k8s')): string[] {
  const found: string[] = []
  const walk = (dir: string): void => {
    const entries = readdirSync(dir)
    if (entries.includes('kustomization.yaml')) found.push(relative(repoPath(), dir))
    for (const e of entries) if (statSync(join(dir, e)).isDirectory()) walk(join(dir, e))
  }
  walk(root)
  return found.sort()
}

export interface K8sObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string, readonly labels?: Readonly<Record<string, string>>, readonly annotations?: Readonly<Record<string, string>> }
  readonly [field: string]: unknown
}

export interface Rendered {
  readonly objects: readonly K8sObject[]
  readonly stderr: string
}

export function render (dir: string): Rendered {
  const r = spawnSync(KUBECTL, ['kustomize', repoPath(dir)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${KUBECTL} kustomize ${dir} exited ${String(r.status)}: ${r.stderr}`)
  const objects = parseAllDocuments(r.stdout).map(d => d.toJS() as K8sObject)
  return { objects, stderr: r.stderr }
}
