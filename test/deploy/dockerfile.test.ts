/** The Dockerfile's promises, read as data (no Docker here): see also image-runtime.test.ts. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from '../../src/config/defaults.js'
import { copyPaths, execForm } from '../helpers/dockerfile.js'
import { dockerStages, repoPath } from '../helpers/repo.js'

const stages = dockerStages()
const [build, runtime] = stages
const ops = (op: string): string[] => (runtime?.instructions ?? []).filter(i => i.op === op).map(i => i.args)

t.test('two stages on one base: build with dev dependencies, run with production ones only', async t => {
  t.equal(stages.length, 2)
  t.equal(build?.name, 'build')
  t.equal(runtime?.image, build?.image)
  t.same(ops('RUN'), ['npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force'])
  const fromBuild = (runtime?.instructions ?? []).filter(i => i.op === 'COPY' && i.flags.from !== undefined)
  t.same(fromBuild.map(i => [i.flags.from, copyPaths(i).sources]), [['build', ['/app/dist']]], 'only the compiled output comes from the build stage')
})

t.test('runs as a numeric non-root user, so runAsNonRoot can verify it', async t => {
  const user = ops('USER').at(-1) ?? ''
  t.match(user, /^\d+:\d+$/)
  t.not(user.split(':')[0], '0')
})

t.test('exposes the default proxy and admin ports, and serves the config Kubernetes mounts', async t => {
  t.same(ops('EXPOSE').join(' ').split(' ').map(Number), [DEFAULT_LISTEN.port, DEFAULT_ADMIN.port])
  const entry = runtime?.instructions.filter(i => i.op === 'ENTRYPOINT')
  const cmd = runtime?.instructions.filter(i => i.op === 'CMD')
  t.same(execForm(entry?.[0]), ['node', '/app/dist/cli.js'], 'exec form: node is PID 1 and gets SIGTERM itself')
  t.same(execForm(cmd?.[0]), ['serve', '--config', '/etc/switchyard/switchyard.yaml'])
})

t.test('.dockerignore is an allowlist that lets in exactly what the stages COPY from the context', async t => {
  const lines = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  t.equal(lines[0], '*', 'everything is excluded first')
  const allowed = new Set(lines.slice(1).map(l => l.replace(/^!/, '').replace(/\/$/, '')))
  const copied = new Set(stages.flatMap(s => s.instructions)
    .filter(i => i.op === 'COPY' && i.flags.from === undefined)
    .flatMap(i => copyPaths(i).sources.map(p => p.split('/')[0] ?? '')))
  t.same([...allowed].sort(), [...copied].sort())
})
