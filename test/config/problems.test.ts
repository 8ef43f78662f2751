/**
 * Validation reports every problem of a file in one run: the schema's and
 * the semantic checks' (references, regexes, URLs, the sticky cookie), the
 * latter left out only where they would echo a schema problem. And the
 * sticky cookie's attributes are written by `cookie` at compile time.
 */
import t from 'tap'
import { validateConfig } from '../../src/config/validate.js'
import { tableOf } from '../helpers/tables.js'

const backends = { stable: { targets: ['http://10.0.0.1:80'] }, canary: { targets: ['http://10.0.0.2:80'] } }
const codes = (config: unknown): Array<[string, string]> => {
  const r = validateConfig(config)
  return r.ok ? [] : r.problems.map(p => [p.code, p.path])
}

t.test('a schema problem and an unknown backend: both in one run', async t => {
  t.same(codes({ backends, routes: [{ name: 'web', split: { stable: 90, canary: 'ten' } }, { name: 'api', to: 'canry' }] }), [
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].split.canary'],
    ['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[1].to']
  ])
})

t.test('semantic checks that would only echo a schema problem are left out', async t => {
  t.same(codes({ backends, routes: [{ name: 'web', splt: { stable: 1 } }] }), [['SY_ERR_CONFIG_SCHEMA', 'routes[0].splt']], 'no "needs to or split" for a misspelt split')
  t.same(codes({ backends, routes: [{ name: 'web', split: 'stable' }] }), [['SY_ERR_CONFIG_SCHEMA', 'routes[0].split']], 'a split of the wrong type is one problem')
  t.same(codes({ routes: [{ name: 'web', to: 'stable' }] }), [['SY_ERR_CONFIG_SCHEMA', '']], 'without backends, references are not judged')
  t.same(codes({ backends: { a: { targets: 'http://x' } }, routes: [{ name: 'r', to: 'a' }] }), [['SY_ERR_CONFIG_SCHEMA', 'backends.a.targets']])
  t.same(codes({ backends, routes: [{ name: 'web', to: 'stable', rules: 'none' }, { name: 'web', to: 'nope' }] }), [
    ['SY_ERR_CONFIG_SCHEMA', 'routes[0].rules'],
    ['SY_ERR_CONFIG_DUPLICATE_NAME', 'routes[1].name'],
    ['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[1].to']
  ], 'problems elsewhere in the file are all reported')
})

t.test('a sticky cookie `cookie` would refuse to write is a config problem', async t => {
  t.same(codes({ backends, routes: [{ name: 'web', split: { stable: 1 }, sticky: { cookie: 'sy', path: '/a<b' } }] }), [['SY_ERR_CONFIG_STICKY', 'routes[0].sticky']])
  t.same(codes({ backends, routes: [{ name: 'web', split: { stable: 1 }, sticky: { cookie: 'sy', path: '/shop', domain: 'example.com' } }] }), [])
})

t.test('the sticky cookie\'s attributes come from cookie.serialize at compile time', async t => {
  const table = tableOf({ backends, routes: [{ name: 'web', split: { stable: 1 }, sticky: { cookie: 'sy', path: '/shop', domain: 'example.com', secure: true, maxAge: '1h' } }] })
  t.equal(table.routes[0]?.sticky?.cookieAttributes, '; Max-Age=3600; Domain=example.com; Path=/shop; HttpOnly; Secure; SameSite=Lax')
  const plain = tableOf({ backends, routes: [{ name: 'web', split: { stable: 1 }, sticky: { cookie: 'sy' } }] })
  t.equal(plain.routes[0]?.sticky?.cookieAttributes, '; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax')
})
