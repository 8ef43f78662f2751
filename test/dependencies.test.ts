/**
 * What the project relies on in its dependency tree. package.json
 * `overrides` gives light-my-request (fastify's inject(), which the admin
 * tests use) the project's cookie 1.x: cookie 2 declares Node >= 22, and a
 * clean install on Node 20 warned EBADENGINE. light-my-request only calls
 * cookie's stringifySetCookie({ name, value }), which 1.x has too.
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import Fastify from 'fastify'

const require = createRequire(import.meta.url)

interface Package { name: string, version: string, engines?: { node?: string } }

/** The package.json of `name` as resolved from `from` (a module file). */
function packageOf (name: string, from: string): Package {
  for (let dir = dirname(createRequire(from).resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as Package
    if (pkg.name === name) return pkg
  }
  throw new Error(`no package.json for ${name}`)
}

t.test('light-my-request runs on a cookie that supports Node 20', async t => {
  const lightMyRequest = createRequire(require.resolve('fastify')).resolve('light-my-request')
  const cookie = packageOf('cookie', lightMyRequest)
  t.match(cookie.version, /^1\./, 'the override is in force')
  t.equal(cookie.engines?.node, '>=18')
})

t.test('inject() still sends cookies as it did with cookie 2: encoded, filtered by path', async t => {
  const app = Fastify()
  app.get('/*', async req => ({ cookie: req.headers.cookie ?? null }))
  const r = await app.inject({ url: '/a/b', cookies: { a: '1 2', b: 'x;y', c: { value: 'p', path: '/a' }, d: { value: 'no', path: '/z' } } })
  t.same(r.json(), { cookie: 'a=1%202; b=x%3By; c=p' })
  await app.close()
})
