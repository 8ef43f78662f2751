/**
 * The `switchyard` CLI against a running switchyard (as a user types it),
 * and its offline mode on a config file and a ConfigMap manifest.
 */
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startBackend, type Backend } from '../helpers/backends.js'
import { startWith, withTestDefaults, type Running } from '../helpers/switchyard.js'
import { runCli } from '../helpers/cli.js'
import { admin, interposeWrites } from '../helpers/admin.js'

let stable: Backend
let canary: Backend
let p: Running
t.before(async () => {
  stable = await startBackend('stable')
  canary = await startBackend('canary')
  p = await startWith({
    backends: { stable: { version: '0.5', targets: [stable.url] }, canary: { version: '0.6', targets: [canary.url] } },
    routes: [{
      name: 'web',
      rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }],
      split: { stable: 90, canary: 10 },
      sticky: { cookie: 'sy_id' }
    }]
  })
})
t.teardown(async () => { await p.close(); await stable.close(); await canary.close() })

const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> =>
  await runCli([...args, '--admin', p.sy.adminUrl])

t.test('a canary ramp, a promote, a rollback and an undo, as a user types them', async t => {
  let r = await cli('status')
  t.equal(r.code, 0)
  t.match(r.stdout, /^revision 1 \(start, .*\) {2}sha256 [0-9a-f]{12}\n/)
  t.match(r.stdout, /route web {2}\(timeout 30s\) {2}sticky cookie sy_id\n {2}rule beta {13}→ canary\n {2}default {15}split stable 90 %, canary 10 %/)
  t.match(r.stdout, /canary \(version 0\.6\)\n {4}http:\/\/127\.0\.0\.1:\d+ {2}health healthy, 0 in flight/)

  r = await cli('set-weight', 'web', 'canary=25')
  t.same([r.code, r.stdout], [0, 'revision 2: web: stable 90→75, canary 10→25\n'])
  r = await cli('set-weight', 'web', 'canary=50')
  t.same([r.code, r.stdout], [0, 'revision 3: web: stable 75→50, canary 25→50\n'])
  r = await cli('promote', 'web', 'canary')
  t.same([r.code, r.stdout], [0, 'revision 4: promote canary: web: stable 50→0, canary 50→100\n'])
  t.equal((await p.get('/', { cookie: 'sy_id=anyone' })).headers['x-backend'], 'canary')
  r = await cli('rollback')
  t.same([r.code, r.stdout], [0, 'revision 5: rollback to revision 3: web: stable 0→50, canary 100→50\n'])
  r = await cli('undo', '--to-revision', '1')
  t.same([r.code, r.stdout], [0, 'revision 6: undo to revision 1: web: stable 50→90, canary 50→10\n'])

  r = await cli('history')
  t.equal(r.code, 0)
  const rows = r.stdout.trimEnd().split('\n')
  t.equal(rows[0], 'REVISION  TIME                      SOURCE  CHANGE')
  t.same(rows.slice(1).map(l => l.replace(/\s+\S+Z\s+/, ' <time> ')), [
    '1 <time> start   initial configuration',
    '2 <time> cli     web: stable 90→75, canary 10→25',
    '3 <time> cli     web: stable 75→50, canary 25→50',
    '4 <time> cli     promote canary: web: stable 50→0, canary 50→100',
    '5 <time> cli     rollback to revision 3: web: stable 0→50, canary 100→50',
    '6* <time> cli     undo to revision 1: web: stable 50→90, canary 50→10'
  ])

  r = await cli('history', '--json')
  const json = JSON.parse(r.stdout) as { revision: number, entries: unknown[] }
  t.same([json.revision, json.entries.length], [6, 6])
})

t.test('explain and diff', async t => {
  let r = await cli('explain', '/page', '-H', 'x-canary: always')
  t.equal(r.code, 0)
  t.match(r.stdout, /^route {4}web\nrules {4}beta ✓\ndecided {2}rule beta\nbackend {2}canary \(version 0\.6\)\n/)
  r = await cli('explain', '--cookie', 'sy_id=user-42', '--json')
  const e = JSON.parse(r.stdout) as { backend: string, sticky: { key: string } }
  t.equal(e.sticky.key, 'user-42')
  t.equal(e.backend, (await p.get('/', { cookie: 'sy_id=user-42' })).headers['x-backend'], 'explain agrees with the proxy')

  const dir = await mkdtemp(join(tmpdir(), 'switchyard-diff-'))
  const candidate = join(dir, 'candidate.yaml')
  const current = (await admin<string>(p.sy.adminUrl, 'GET', '/admin/config', { headers: { accept: 'application/yaml' } })).text
  await writeFile(candidate, current.replace(/canary: 10\b/, 'canary: 25').replace(/stable: 90\b/, 'stable: 75'))
  r = await cli('diff', candidate)
  t.equal(r.code, 0)
  const lines = r.stdout.trimEnd().split('\n')
  t.match(lines[0], /^against running revision \d+: web: stable 90→75, canary 10→25$/)
  t.match(lines[1], /^web: 1[4-6]\.\d % of users move stable → canary$/)
  t.equal(lines.length, 2, 'no user moves the other way')
})

t.test('failures: non-zero exit and a clear message', async t => {
  let r = await cli('set-weight', 'nope', 'canary=5')
  t.equal(r.code, 1)
  t.match(r.stderr, /no route named "nope" \(routes: web\) \[SY_ERR_ADMIN_UNKNOWN_ROUTE\]/)
  r = await cli('set-weight', 'web', 'canary=lots')
  t.equal(r.code, 1)
  t.match(r.stderr, /expected BACKEND=WEIGHT/)
  r = await cli('undo', '--to-revision', '999')
  t.equal(r.code, 1)
  t.match(r.stderr, /not in the history/)
  r = await runCli(['status', '--admin', 'http://127.0.0.1:1'])
  t.equal(r.code, 1)
  t.match(r.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:1: ECONNREFUSED/)
})

t.test('the CLI reports a lost race (412) and changes nothing', async t => {
  // The CLI reads the status; another operator changes the config before its write arrives.
  const front = await interposeWrites(p.sy.adminUrl, async () => await admin(p.sy.adminUrl, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 33 } } }))
  t.teardown(() => front.close())
  const before = p.sy.live.current.revision
  const r = await runCli(['set-weight', 'web', 'canary=40', '--admin', front.url])
  t.equal(r.code, 3)
  t.match(r.stderr, /lost a race: the config changed since it was read/)
  t.equal(p.sy.live.current.revision, before + 1, 'only the other operator\'s change landed')
  t.equal(p.sy.live.current.table.config.routes[0]?.split?.canary, 33)
})

t.test('the token comes from SWITCHYARD_ADMIN_TOKEN', async t => {
  const locked = await startWith({ backends: { a: { targets: [stable.url] } }, routes: [{ name: 'r', split: { a: 1 } }] }, { adminToken: 'cli-token' })
  t.teardown(() => locked.close())
  let r = await runCli(['status', '--admin', locked.sy.adminUrl])
  t.equal(r.code, 1)
  t.match(r.stderr, /SY_ERR_ADMIN_UNAUTHORIZED/)
  r = await runCli(['status', '--admin', locked.sy.adminUrl], { env: { SWITCHYARD_ADMIN_TOKEN: 'cli-token' } })
  t.equal(r.code, 0)
})

t.test('offline mode edits a config file in place, keeping comments', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-offline-'))
  const file = join(dir, 'app.yaml')
  const text = '# GitOps copy of the routing\n' + stringify(withTestDefaults({
    backends: { blue: { targets: ['http://10.0.0.1:80'] }, green: { targets: ['http://10.0.0.2:80'] } },
    routes: [{ name: 'shop', to: 'blue' }]
  })).replace('to: blue', 'to: blue # flipped by the release pipeline')
  await writeFile(file, text)
  let r = await runCli(['set-weight', '--file', file, 'shop', 'green=10'])
  t.same([r.code, r.stdout], [0, `${file}: shop: to blue → split blue 90, green 10\n`])
  r = await runCli(['promote', '--file', file, 'shop', 'green'])
  t.same([r.code, r.stdout], [0, `${file}: promote green: shop: blue 90→0, green 10→100\n`])
  const after = await readFile(file, 'utf8')
  t.ok(after.startsWith('# GitOps copy of the routing\n'), 'the leading comment survives')
  t.match(after, /split: \{ blue: 0, green: 100 \}/)
  r = await runCli(['validate', file])
  t.equal(r.code, 0)

  r = await runCli(['set-weight', '--file', file, 'shop', 'purple=5'])
  t.equal(r.code, 1)
  t.match(r.stderr, /would be invalid; .* is unchanged:\n {2}\d+:\d+: routes\[0\]\.split\.purple: unknown backend "purple"/)
  t.equal(await readFile(file, 'utf8'), after, 'an invalid result leaves the file alone')
})

t.test('offline mode edits the config embedded in a ConfigMap manifest', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cm-'))
  const file = join(dir, 'configmap.yaml')
  const embedded = stringify({
    backends: { stable: { targets: ['http://my-app-v1:8080'] }, canary: { targets: ['http://my-app-v2:8080'] } },
    routes: [{ name: 'web', split: { stable: 90, canary: 10 } }]
  })
  const manifest = [
    'apiVersion: v1',
    'kind: Service',
    'metadata: { name: other }',
    '---',
    '# the routing; switchyard reloads it when this ConfigMap changes',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: switchyard-routing',
    'data:',
    '  switchyard.yaml: |',
    ...embedded.trimEnd().split('\n').map(l => '    ' + l),
    ''
  ].join('\n')
  await writeFile(file, manifest)
  const r = await runCli(['set-weight', '--file', file, 'web', 'canary=30'])
  t.same([r.code, r.stdout], [0, `${file} (ConfigMap data switchyard.yaml): web: stable 90→70, canary 10→30\n`])
  const { parseAllDocuments } = await import('yaml')
  const docs = parseAllDocuments(await readFile(file, 'utf8'))
  const list = Array.isArray(docs) ? docs : []
  t.equal(list.length, 2, 'the other document is kept')
  t.equal(list[0]?.get('kind'), 'Service')
  const cm = list[1]?.toJS() as { data: Record<string, string> }
  const { parse } = await import('yaml')
  t.same((parse(cm.data['switchyard.yaml'] ?? '') as { routes: Array<{ split: unknown }> }).routes[0]?.split, { stable: 70, canary: 30 })
  t.match(await readFile(file, 'utf8'), /# the routing; switchyard reloads it/)
})

t.test('--help on every command', async t => {
  for (const cmd of ['serve', 'validate', 'status', 'set-weight', 'promote', 'ramp', 'rollout', 'rollout start', 'rollout status', 'rollout pause', 'rollout resume', 'rollout promote', 'rollout abort', 'rollback', 'undo', 'history', 'diff', 'explain']) {
    const r = await runCli([...cmd.split(' '), '--help'])
    t.equal(r.code, 0, cmd)
    t.match(r.stdout, `Usage: switchyard ${cmd}`, `${cmd} usage`)
  }
})
