/**
 * Renders the kustomize folders under k8s/ with `kubectl kustomize`, as a
 * user's `kubectl apply -k` would. kubectl is $KUBECTL or the one on PATH,
 * and its kustomize must be v5 or newer (`.ci/kubectl` installs one).
 *
 * A render is a pure function of kubectl's version and the files under
 * k8s/ (kustomize may read any of them: overlays reach into ../base), so
 * each folder is rendered once and kept in a cache under the temporary
 * directory keyed by a hash of both; the test files that read a folder
 * share that one render, in this run and the next ones until k8s/ or
 * kubectl changes. A lock directory makes concurrent test files wait for
 * the one render instead of running it twice.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { repoPath } from './repo.js'

export const KUBECTL = process.env.KUBECTL ?? 'kubectl'

let version: SpawnSyncReturns<string> | undefined
const kubectlVersion = (): SpawnSyncReturns<string> => (version ??= spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }))

/** Why rendering cannot run here, or undefined when it can. */
export function kustomizeMissing (): string | undefined {
  const r = kubectlVersion()
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

interface Output { readonly stdout: string, readonly stderr: string }

let inputsHash: string | undefined
/** kubectl's version and every file under k8s/, path and content. */
function inputs (): string {
  if (inputsHash !== undefined) return inputsHash
  const hash = createHash('sha256').update(kubectlVersion().stdout)
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const path = join(dir, e)
      if (statSync(path).isDirectory()) walk(path)
      else hash.update(`\0${relative(repoPath(), path)}\0`).update(readFileSync(path))
    }
  }
  walk(repoPath('k8s'))
  inputsHash = hash.digest('hex').slice(0, 16)
  return inputsHash
}

const CACHE = join(tmpdir(), 'switchyard-kustomize')
const LOCK_WAIT_MS = 60_000

function readCached (file: string): Output | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Output
  } catch {
    return undefined
  }
}

function kustomize (dir: string): Output {
  const r = spawnSync(KUBECTL, ['kustomize', repoPath(dir)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${KUBECTL} kustomize ${dir} exited ${String(r.status)}: ${r.stderr}`)
  return { stdout: r.stdout, stderr: r.stderr }
}

/** `kubectl kustomize DIR`'s output: from the cache, or rendered (once, whoever asks first) and cached. */
function renderOnce (dir: string): Output {
  mkdirSync(CACHE, { recursive: true })
  const file = join(CACHE, `${inputs()}-${dir.replaceAll('/', '_')}.json`)
  const lock = `${file}.lock`
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    const cached = readCached(file)
    if (cached !== undefined) return cached
    try {
      mkdirSync(lock)
      break
    } catch {
      // Another test file is rendering it; a lock left by a killed run expires.
      if (Date.now() > deadline) return kustomize(dir)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
    }
  }
  try {
    const out = kustomize(dir)
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(out))
    renameSync(`${file}.${process.pid}`, file)
    return out
  } finally {
    rmdirSync(lock)
  }
}

const rendered = new Map<string, Rendered>()

export function render (dir: string): Rendered {
  let r = rendered.get(dir)
  if (r === undefined) {
    const { stdout, stderr } = renderOnce(dir)
    r = { objects: parseAllDocuments(stdout).map(d => d.toJS() as K8sObject), stderr }
    rendered.set(dir, r)
  }
  return r
}
