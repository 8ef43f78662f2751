/**
 * Who may change routing: with a token, only bearers of it; without one,
 * only local callers of a loopback-bound admin listener. Probes and metrics
 * never need it. And a read-only config file (a ConfigMap mount) is a clear
 * error that changes nothing. (Admin calls through Fastify's inject().)
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBackends } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'
import { admin } from '../helpers/admin.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

function config (adminHost: string): Record<string, unknown> {
  return {
    admin: { host: adminHost, port: 0 },
    backends: { stable: { targets: [stable.url] }, canary: { targets: [canary.url] } },
    routes: [{ name: 'web', split: { stable: 90, canary: 10 } }]
  }
}

const weights = { body: { weights: { canary: 20 } } }

t.test('non-loopback listener without a token: reads work, mutations are disabled', async t => {
  const p = await startWith(config('0.0.0.0'))
  t.teardown(() => p.close())
  const A = p.sy.admin
  t.equal((await admin(A, 'GET', '/healthz')).status, 200)
  t.equal((await admin(A, 'GET', '/readyz')).status, 200)
  t.equal((await admin(A, 'GET', '/admin/status')).status, 200)
  for (const [method, path, body] of [
    ['PUT', '/admin/routes/web/weights', weights.body],
    ['POST', '/admin/routes/web/promote', { backend: 'canary' }],
    ['POST', '/admin/rollback', undefined],
    ['POST', '/admin/undo', { toRevision: 1 }],
    ['PUT', '/admin/config', { routes: [] }]
  ] as const) {
    const r = await admin(A, method, path, { body })
    t.equal(r.status, 403, `${method} ${path}`)
    t.equal(r.body.error, 'SY_ERR_ADMIN_MUTATIONS_DISABLED')
  }
  t.equal(p.sy.live.current.revision, 1, 'nothing changed')
})

t.test('non-loopback listener with a token: every /admin request needs it', async t => {
  const p = await startWith(config('0.0.0.0'), { adminToken: 's3cret-token' })
  t.teardown(() => p.close())
  const A = p.sy.admin
  t.equal((await admin(A, 'GET', '/healthz')).status, 200, 'probes need no token')
  t.equal((await admin(A, 'GET', '/readyz')).status, 200)
  const anon = await admin(A, 'GET', '/admin/status')
  t.equal(anon.status, 401)
  t.equal(anon.body.error, 'SY_ERR_ADMIN_UNAUTHORIZED')
  t.equal((await admin(A, 'GET', '/admin/status', { headers: { authorization: 'Bearer wrong' } })).status, 401)
  t.equal((await admin(A, 'GET', '/admin/status', { headers: { authorization: 'Basic czNjcmV0LXRva2Vu' } })).status, 401)
  t.equal((await admin(A, 'GET', '/admin/status', { headers: { authorization: 'Bearer s3cret-token' } })).status, 200)
  const noToken = await admin(A, 'PUT', '/admin/routes/web/weights', weights)
  t.equal(noToken.status, 401)
  t.equal(p.sy.live.current.revision, 1)
  const ok = await admin(A, 'PUT', '/admin/routes/web/weights', { ...weights, headers: { authorization: 'Bearer s3cret-token' } })
  t.equal(ok.status, 200)
  t.equal(p.sy.live.current.revision, 2)
})

t.test('loopback listener: mutations without a token; with a token configured it is required', async t => {
  const open = await startWith(config('127.0.0.1'))
  t.teardown(() => open.close())
  t.equal((await admin(open.sy.admin, 'PUT', '/admin/routes/web/weights', weights)).status, 200)
  const locked = await startWith(config('127.0.0.1'), { adminToken: 'tkn' })
  t.teardown(() => locked.close())
  t.equal((await admin(locked.sy.admin, 'PUT', '/admin/routes/web/weights', weights)).status, 401)
})

/** Makes `dir` read-only the way a ConfigMap volume is: a read-only mount, else the immutable attribute. */
function makeReadOnly (dir: string): () => void {
  try {
    execFileSync('mount', ['--bind', dir, dir], { stdio: 'ignore' })
    execFileSync('mount', ['-o', 'remount,bind,ro', dir], { stdio: 'ignore' })
    return () => execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' })
    return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' })
  }
}

t.test('a read-only config file: a clear 409 pointing to the ConfigMap, nothing changed', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-ro-'))
  const state = await mkdtemp(join(tmpdir(), 'switchyard-state-'))
  await writeFile(join(dir, 'placeholder'), '')
  const p = await startWith(config('127.0.0.1'), { dir, stateDir: state })
  const before = await readFile(p.configPath, 'utf8')
  const undo = makeReadOnly(dir)
  t.teardown(async () => {
    undo()
    await p.close()
    await rm(state, { recursive: true, force: true })
  })
  const r = await admin(p.sy.admin, 'PUT', '/admin/routes/web/weights', weights)
  t.equal(r.status, 409)
  t.equal(r.body.error, 'SY_ERR_ADMIN_READONLY')
  t.match(r.body.message, /read-only.*edit the ConfigMap/)
  t.equal(p.sy.live.current.revision, 1, 'not applied')
  t.equal(await readFile(p.configPath, 'utf8'), before)
  t.equal((await p.get('/', { cookie: 'x=1' })).status, 200, 'still serving')
})
