/** Every error code is documented in docs/errors.md (fastify's habit: codes are API). */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { ErrorCodes, formatProblem, ConfigError } from '../src/errors.js'

t.test('docs/errors.md documents every error code, once, and no other', async t => {
  const page = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8')
  // A code is documented by a table row of its own: | `SY_ERR_…` | meaning |
  const rows = [...page.matchAll(/^\| `(SY_ERR_[A-Z_]+)` \| *(.*?) *\|$/gm)]
  const documented = rows.map(([, code]) => code)
  for (const [, code, meaning] of rows) t.not(meaning, '', `${code ?? ''} has a meaning`)
  t.same([...documented].sort(), Object.keys(ErrorCodes).sort(), 'the rows name exactly the codes of src/errors.ts')
  t.equal(new Set(documented).size, documented.length, 'no code has two rows')
})

t.test('formatProblem and ConfigError', async t => {
  t.equal(formatProblem({ code: 'SY_ERR_CONFIG_SCHEMA', path: 'a.b', message: 'is bad', line: 3, column: 7 }, 'f.yaml'), 'f.yaml:3:7: a.b: is bad [SY_ERR_CONFIG_SCHEMA]')
  t.equal(formatProblem({ code: 'SY_ERR_CONFIG_READ', path: '', message: 'cannot read' }), 'cannot read [SY_ERR_CONFIG_READ]')
  const err = new ConfigError([
    { code: 'SY_ERR_CONFIG_SCHEMA', path: 'x', message: 'one' },
    { code: 'SY_ERR_CONFIG_SCHEMA', path: 'y', message: 'two' }
  ], 'c.yaml')
  t.equal(err.message, 'c.yaml: x: one [SY_ERR_CONFIG_SCHEMA] (and 1 more)')
  t.equal(err.code, 'SY_ERR_CONFIG_INVALID')
  t.equal(err.problems.length, 2)
})
