/**
 * Every switchyard config that ships passes `switchyard validate`: the ones
 * the manifests mount from ConfigMaps and the ones in config/examples/. The
 * Kubernetes examples route exactly as their config/examples/ twins do.
 *
 * The check is what `switchyard validate` runs (buildFromFile: parse,
 * validate, compile), in process: a CLI process per file costs ~0.7 s under
 * tap's coverage hook, and test/cli/validate-serve.test.ts covers the
 * command's own wiring.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import type { RawConfig } from '../../src/config/schema.js'
import { buildFromFile } from '../../src/routing/build.js'
import { formatProblem } from '../../src/errors.js'
import { kustomizeDirs, kustomizeMissing, render } from '../helpers/kustomize.js'
import { repoPath } from '../helpers/repo.js'
import { parseConfig, switchyardPods } from '../helpers/switchyard-pods.js'

const missing = kustomizeMissing()
const skip = missing === undefined ? false : `${missing}; run with KUBECTL=$(.ci/kubectl)`
const EXAMPLES = repoPath('config', 'examples')
const STRATEGIES = ['ab-testing', 'blue-green', 'canary', 'ramped', 'recreate']

/** Every problem `switchyard validate FILE` would print; [] when it would exit 0. */
async function problems (file: string): Promise<string[]> {
  const built = await buildFromFile(file)
  return built.ok ? [] : built.problems.map(p => formatProblem(p, file))
}

t.test('config/examples holds one valid config per strategy', async t => {
  t.same(readdirSync(EXAMPLES).sort(), STRATEGIES.map(s => `${s}.yaml`))
  for (const s of STRATEGIES) t.same(await problems(join(EXAMPLES, `${s}.yaml`)), [], `${s}.yaml`)
})

t.test('every config a manifest mounts passes switchyard validate', { skip }, async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-k8s-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  let n = 0
  for (const k of kustomizeDirs()) {
    for (const p of switchyardPods(render(k).objects)) {
      const file = join(dir, `${++n}.yaml`)
      await writeFile(file, p.configText ?? '')
      t.same(await problems(file), [], `${k} ${p.name}`)
    }
  }
  t.equal(n, 9, 'base, ingress, sidecar, five strategies and etcd')
})

t.test('the switchyard-driven Kubernetes examples route as their config/examples twins', { skip }, async t => {
  // Only the addresses differ: Service names and the pod's admin bind there, loopback here.
  const routing = (c: RawConfig): unknown => ({
    proxy: c.proxy,
    routes: c.routes,
    backends: Object.fromEntries(Object.entries(c.backends).map(([name, b]) => [name, b.version]))
  })
  for (const s of ['ab-testing', 'blue-green', 'canary']) {
    const [pod] = switchyardPods(render(`k8s/examples/${s}`).objects)
    const local = parse(readFileSync(join(EXAMPLES, `${s}.yaml`), 'utf8')) as RawConfig
    t.same(routing(parseConfig(pod?.configText)), routing(local), s)
  }
})
