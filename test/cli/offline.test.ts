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
