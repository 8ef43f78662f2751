/** Every error code is documented in the README (fastify's habit: codes are API). */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { ErrorCodes, formatProblem, ConfigError } from '../src/errors.js'

t.test('every error code appears in README.md', async t => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  for (const code of Object.keys(ErrorCodes)) t.ok(readme.includes(`\`${code}\``), code)
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
