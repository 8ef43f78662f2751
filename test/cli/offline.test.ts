/**
 * The CLI's offline mode (`--file`) as a user meets it: a refused edit is
 * one coded line on stderr and a non-zero exit, never a stack trace.
 */
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { runCli } from '../helpers/cli.js'

const config = stringify({
  backends: { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } },
  routes: [{ name: 'web', split: { stable: 90, canary: 10 } }]
})

t.test('set-weight --file on an unknown route: one coded line, exit 1, file unchanged', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-offline-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, config)
  const r = await runCli(['set-weight', '--file', file, 'nope', 'canary=5'])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.equal(r.stderr, 'switchyard: no route named "nope" (routes: web) [SY_ERR_ADMIN_UNKNOWN_ROUTE]\n')
  t.equal(await readFile(file, 'utf8'), config)
})

t.test('rollback and undo --file: the history `serve` kept, read but not written', async t => {
  const { pino } = await import('pino')
  const { LiveConfig } = await import('../../src/control/live-config.js')
  const { Operations } = await import('../../src/control/operations.js')
  const { openSource } = await import('../../src/control/sources/open.js')
  const { changeOffline } = await import('../../src/commands/offline-edit.js')
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-offline-history-'))
  const file = join(dir, 'sy.yaml')
  await writeFile(file, config)
  // What a running switchyard leaves behind: revisions 1 (start) and 2 (a weight change) in sy.yaml.history.json.
  const source = await openSource(file, {})
  const served = new LiveConfig(source, undefined, pino({ level: 'silent' }))
  await served.start(await LiveConfig.load(source))
  await new Operations(served).setWeights('web', { canary: 50 }, { origin: 'api' })
  const historyFile = join(dir, 'sy.yaml.history.json')
  const history = await readFile(historyFile, 'utf8')

  const back = await changeOffline({ file }, async ops => await ops.rollback({ origin: 'cli' }))
  t.same(back, { file, summary: 'rollback to revision 1: web: stable 50→90, canary 50→10' })
  t.equal(await readFile(file, 'utf8'), config, 'the file is revision 1 again, byte for byte')
  t.equal(await readFile(historyFile, 'utf8'), history, 'the history file is left to `serve`')

  const undo = await changeOffline({ file }, async ops => await ops.undo(2, { origin: 'cli' }))
  t.equal(undo.summary, 'undo to revision 2: web: stable 90→50, canary 10→50')
  await t.rejects(changeOffline({ file }, async ops => await ops.undo(9, { origin: 'cli' })), { message: /revision 9 is not in the history \(kept: 1, 2\) \[SY_ERR_ADMIN_UNKNOWN_REVISION\]/ })
})

t.test('explain --config FILE and diff FILE --against FILE2 need no running switchyard', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-offline-query-'))
  const before = join(dir, 'before.yaml')
  const after = join(dir, 'after.yaml')
  const sticky = (canary: number): string => stringify({
    backends: { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } },
    routes: [{ name: 'web', rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }], split: { stable: 100 - canary, canary }, sticky: { cookie: 'sy_id' } }]
  })
  await writeFile(before, sticky(10))
  await writeFile(after, sticky(25))
  const nobody = ['--admin', 'http://127.0.0.1:1']
  let r = await runCli(['explain', '/page', '-H', 'x-canary: always', '--config', before, ...nobody])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'route    web\nrules    beta ✓\ndecided  rule beta\nbackend  canary (version canary)\nwhy      rule beta matched (all its conditions hold); it sends everyone to canary\n')
  r = await runCli(['diff', after, '--against', before, ...nobody])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  t.equal(lines[0], `against ${before}: web: stable 90→75, canary 10→25`)
  t.match(lines[1], /^web: 1[4-6]\.\d % of users move stable → canary$/)
  t.equal(lines.length, 2)
  r = await runCli(['diff', after, '--against', join(dir, 'missing.yaml'), ...nobody])
  t.same([r.code, r.stderr], [1, `switchyard: cannot read ${join(dir, 'missing.yaml')}: ENOENT\n`])
})
