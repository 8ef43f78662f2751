/**
 * The image's runtime step, reproduced outside Docker: a production-only
 * install (the runtime stage's own `npm ci --omit=dev`) in a copy of the
 * build output must start `switchyard serve` and answer through the proxy.
 * So the image cannot depend on a dev dependency. Needs the npm registry
 * (or a warm npm cache).
 */
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { startTestpage } from '../../src/testpage/testpage.js'
import { execForm } from '../helpers/dockerfile.js'
import { replayRuntimeStage } from '../helpers/image-replay.js'
import { startCli } from '../helpers/cli.js'
import { dockerStages, repoPath, runtimeStage } from '../helpers/repo.js'

t.test('a production-only install of the build output serves through the proxy', async t => {
  const root = await mkdtemp(join(tmpdir(), 'switchyard-image-'))
  t.teardown(async () => await rm(root, { recursive: true, force: true }))
  // Node looks for packages in every parent's node_modules: none may help.
  for (let d = dirname(root); d !== dirname(d); d = dirname(d)) t.notOk(existsSync(join(d, 'node_modules')), `no ${d}/node_modules`)

  const stage = runtimeStage()
  const build = dockerStages()[0]
  const buildWorkdir = build?.instructions.find(i => i.op === 'WORKDIR')?.args ?? '/'
  const image = await replayRuntimeStage(stage, root, build?.name ?? '', buildWorkdir)

  const pkg = JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { dependencies: Record<string, string> }
  const modules = image.at(join(image.workdir, 'node_modules'))
  t.same(Object.keys(pkg.dependencies).filter(d => !existsSync(join(modules, d))), [], 'every production dependency is installed')
  // A dev dependency may also be a production one's dependency (ws and @types/node under
  // @kubernetes/client-node): what must be missing is what the lockfile marks dev-only.
  const lock = JSON.parse(await readFile(repoPath('package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => p.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path)).map(([path]) => path.slice('node_modules/'.length))
  t.ok(devOnly.includes('tap'), 'the lockfile marks dev-only packages')
  t.same(devOnly.filter(d => existsSync(join(modules, d))), [], 'no dev-only package is installed')

  const [node, script = '', ...entryArgs] = execForm(stage.instructions.find(i => i.op === 'ENTRYPOINT'))
  const cmd = execForm(stage.instructions.find(i => i.op === 'CMD'))
  t.equal(node, 'node')
  t.same(entryArgs, [])
  const configFlag = cmd.indexOf('--config')
  t.ok(existsSync(image.at(cmd[configFlag + 1] ?? '')), 'the image holds a default config where CMD points')

  const page = await startTestpage('0.5')
  t.teardown(async () => await page.close())
  const config = join(root, 'switchyard.yaml')
  await writeFile(config, stringify({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { app: { version: '0.5', targets: [page.url] } },
    routes: [{ name: 'all', to: 'app' }],
    // SIGTERM still drains, briefly (test/proxy/shutdown.test.ts is about the drain itself).
    shutdown: { drainDelay: '100ms' }
  }))
  // The image's own command line, with only the config file swapped for one
  // on free ports. (tap's coverage hook rides along in every child process;
  // it resolves from its own location, so it cannot lend the app a package.)
  const args = cmd.map((w, i) => i === configFlag + 1 ? config : w)
  const { child, match } = await startCli(args, /"msg":"switchyard started"/, { cli: image.at(script), cwd: image.at(image.workdir), env: { ...image.env, NODE_PATH: '' } })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const started = JSON.parse(match.input) as { proxy: string, admin: string }

  const res = await request(started.proxy + '/')
  t.equal(res.statusCode, 200)
  t.equal(await res.body.text(), `I am: ${page.url.slice('http://'.length)}, the version is: 0.5\n`)
  const ready = await request(started.admin + '/readyz')
  t.equal(ready.statusCode, 200)
  t.equal(await ready.body.text(), 'ready\n')

  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  t.same(await exited, [0, null], 'SIGTERM: drains and exits 0')
})
