/**
 * The admin API against a running switchyard with real backends: live weight
 * changes, the file on disk and the history after every change, rollback and
 * undo restoring exact earlier routing, If-Match (412), bad bodies refused
 * with nothing changed, a restart resuming the revision and history.
 * Admin calls go through Fastify's inject() on the admin app; the proxy's
 * traffic goes through its socket.
 */
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { parse as parseYaml, stringify } from 'yaml'
import { pino } from 'pino'
import { startBackends } from '../helpers/backends.js'
import { startWith, withTestDefaults, type Running } from '../helpers/switchyard.js'
import { admin } from '../helpers/admin.js'
import { createSwitchyard } from '../../src/app/switchyard.js'

const { stable, canary } = await startBackends(t, 'stable', 'canary')

const COMMENT = '# operators: keep this comment'

function configText (split: Record<string, number>): string {
  return COMMENT + '\n' + stringify(withTestDefaults({
    backends: { stable: { version: '0.5', targets: [stable.url] }, canary: { version: '0.6', targets: [canary.url] } },
    routes: [{ name: 'web', split, sticky: { cookie: 'sy_id' } }]
  }))
}

/**
 * Which of 200 distinct users the proxy sends to canary. (How sticky ids
 * spread by the weights is proven without sockets in
 * test/routing/weighted.test.ts; these users check the live routing.)
 */
const USERS = 200

async function canaryUsers (p: Running): Promise<Set<number>> {
  const users = new Set<number>()
  for (let u = 0; u < USERS; u++) {
    const r = await p.get('/', { cookie: `sy_id=u${u}` })
    if (r.headers['x-backend'] === 'canary') users.add(u)
  }
  return users
}

async function canaryShare (p: Running): Promise<number> {
  return (await canaryUsers(p)).size / USERS
}

async function onDisk (p: Running): Promise<{ split: Record<string, number>, text: string }> {
  const text = await readFile(p.configPath, 'utf8')
  const doc = parseYaml(text) as { routes: Array<{ split: Record<string, number> }> }
  return { split: doc.routes[0]?.split ?? {}, text }
}

t.test('weights, promote, rollback and undo: live, on disk, in the history', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin

  const status0 = await admin(A, 'GET', '/admin/status')
  t.equal(status0.status, 200)
  t.equal(status0.etag, '"1"')
  t.equal(status0.body.revision, 1)
  const users10 = await canaryUsers(p)
  const share10 = users10.size / USERS
  t.ok(share10 > 0.05 && share10 < 0.15, `canary share at 10 %: ${share10}`)

  // set weights: canary=25 takes up the difference from stable
  const set = await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 25 } } })
  t.equal(set.status, 200)
  t.same(set.body, { revision: 2, sha256: set.body.sha256, changed: true, summary: 'web: stable 90→75, canary 10→25' })
  t.equal(set.etag, '"2"')
  t.same((await onDisk(p)).split, { stable: 75, canary: 25 }, 'written to the file')
  t.ok((await onDisk(p)).text.startsWith(COMMENT), 'comments survive the edit')
  const users25 = await canaryUsers(p)
  const share25 = users25.size / USERS
  t.ok(share25 > 0.19 && share25 < 0.31, `canary share at 25 %: ${share25}`)
  t.same([...users10].filter(u => !users25.has(u)), [], 'minimal movement: every canary user at 10 % is still on canary at 25 %')

  const promote = await admin(A, 'POST', '/admin/routes/web/promote', { body: { backend: 'canary' } })
  t.equal(promote.body.revision, 3)
  t.equal(promote.body.summary, 'promote canary: web: stable 75→0, canary 25→100')
  t.equal(await canaryShare(p), 1, 'everyone on canary after promote')
  t.same((await onDisk(p)).split, { stable: 0, canary: 100 })

  const rollback = await admin(A, 'POST', '/admin/rollback')
  t.equal(rollback.status, 200)
  t.equal(rollback.body.revision, 4)
  t.equal(rollback.body.summary, 'rollback to revision 2: web: stable 0→75, canary 100→25')
  t.same((await onDisk(p)).split, { stable: 75, canary: 25 })
  t.equal(rollback.body.sha256, set.body.sha256, 'rollback restores the exact config of revision 2')
  t.equal(await canaryShare(p), share25, 'and the exact routing: the same users on canary')

  const undo = await admin(A, 'POST', '/admin/undo', { body: { toRevision: 1 } })
  t.equal(undo.body.revision, 5)
  t.equal(undo.body.summary, 'undo to revision 1: web: stable 75→90, canary 25→10')
  t.equal(await canaryShare(p), share10, 'undo restores the exact routing of revision 1')
  t.equal((await onDisk(p)).text, configText({ stable: 90, canary: 10 }), 'the file is byte for byte revision 1')

  const history = await admin<{ revision: number, entries: Array<{ revision: number, source: string, summary: string, current: boolean }> }>(A, 'GET', '/admin/history')
  t.equal(history.body.revision, 5)
  t.same(history.body.entries.map(e => [e.revision, e.source, e.summary, e.current]), [
    [1, 'start', 'initial configuration', false],
    [2, 'api', 'web: stable 90→75, canary 10→25', false],
    [3, 'api', 'promote canary: web: stable 75→0, canary 25→100', false],
    [4, 'api', 'rollback to revision 2: web: stable 0→75, canary 100→25', false],
    [5, 'api', 'undo to revision 1: web: stable 75→90, canary 25→10', true]
  ])
  const rev3 = await admin<{ config: string }>(A, 'GET', '/admin/history/3')
  t.same((parseYaml(rev3.body.config) as { routes: Array<{ split: unknown }> }).routes[0]?.split, { stable: 0, canary: 100 }, 'each entry keeps its whole config')
})

t.test('a file edit and an API change both become revisions; GET /admin/config in JSON and YAML', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  await writeFile(p.configPath, configText({ stable: 50, canary: 50 }))
  t.equal((await p.sy.live.reload('file')).result, 'success')
  const history = await admin<{ entries: Array<{ source: string, summary: string }> }>(A, 'GET', '/admin/history')
  t.same(history.body.entries.at(-1), { ...history.body.entries.at(-1), source: 'file', summary: 'web: stable 90→50, canary 10→50' })

  const json = await admin<{ routes: Array<{ split: Record<string, number> }> }>(A, 'GET', '/admin/config')
  t.equal(json.etag, '"2"')
  t.same(json.body.routes[0]?.split, { stable: 50, canary: 50 })
  const yaml = await admin(A, 'GET', '/admin/config', { headers: { accept: 'application/yaml' } })
  t.equal(yaml.text, configText({ stable: 50, canary: 50 }), 'YAML is the file as written, comments included')
})

t.test('PUT /admin/config: valid replaces the file atomically; invalid changes nothing', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  const before = await readFile(p.configPath, 'utf8')

  const bad = configText({ stable: 90, canary: 10 }).replace('canary: 10', 'canry: 10').replace('timeout', 'timeout')
  const rejected = await admin<{ error: string, problems: Array<{ code: string, path: string, line: number }> }>(A, 'PUT', '/admin/config', { raw: bad, contentType: 'application/yaml' })
  t.equal(rejected.status, 422)
  t.equal(rejected.body.error, 'SY_ERR_CONFIG_INVALID')
  t.same(rejected.body.problems.map(q => [q.code, q.path]), [['SY_ERR_CONFIG_UNKNOWN_BACKEND', 'routes[0].split.canry']])
  t.type(rejected.body.problems[0]?.line, 'number', 'problems carry their line')

  const unparsable = await admin(A, 'PUT', '/admin/config', { raw: 'routes: [ {', contentType: 'application/yaml' })
  t.equal(unparsable.status, 400)
  t.equal(unparsable.body.error, 'SY_ERR_CONFIG_INVALID')

  t.equal(await readFile(p.configPath, 'utf8'), before, 'file unchanged')
  t.equal(p.sy.live.current.revision, 1, 'revision unchanged')

  const next = configText({ stable: 0, canary: 1 })
  const ok = await admin(A, 'PUT', '/admin/config', { raw: next, contentType: 'text/yaml' })
  t.equal(ok.status, 200)
  t.equal(ok.body.revision, 2)
  t.equal(await readFile(p.configPath, 'utf8'), next)
  t.equal((await p.get('/')).headers['x-backend'], 'canary')

  const asJson = await admin(A, 'PUT', '/admin/config', { body: parseYaml(configText({ stable: 1, canary: 0 })) })
  t.equal(asJson.status, 200)
  t.equal(asJson.body.revision, 3)
  t.same((await onDisk(p)).split, { stable: 1, canary: 0 }, 'a JSON body is written as YAML for a .yaml file')

  const same = await admin(A, 'PUT', '/admin/config', { raw: await readFile(p.configPath, 'utf8'), contentType: 'application/yaml' })
  t.same([same.status, same.body.changed, same.body.revision], [200, false, 3], 'an identical config is not a new revision')
})

t.test('If-Match: a stale revision gets 412 and changes nothing', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  const { etag } = await admin(A, 'GET', '/admin/status')
  t.equal(etag, '"1"')
  const first = await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 20 } }, headers: { 'if-match': etag ?? '' } })
  t.equal(first.status, 200)
  const second = await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 50 } }, headers: { 'if-match': etag ?? '' } })
  t.equal(second.status, 412)
  t.equal(second.body.error, 'SY_ERR_ADMIN_PRECONDITION')
  t.equal(second.body.revision, 2)
  t.same((await onDisk(p)).split, { stable: 80, canary: 20 }, 'the loser changed nothing')
  for (const path of ['/admin/rollback', '/admin/undo']) {
    const r = await admin(A, 'POST', path, { body: path === '/admin/undo' ? { toRevision: 1 } : undefined, headers: { 'if-match': '"1"' } })
    t.equal(r.status, 412, `${path} honours If-Match`)
  }
  const star = await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 30 } }, headers: { 'if-match': '*' } })
  t.equal(star.status, 200, 'If-Match: * matches any revision')
  const list = await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 40 } }, headers: { 'if-match': '"1", "3"' } })
  t.equal(list.status, 200, 'a list of tags matches when one does')
})

t.test('malformed, wrong-typed, unknown and oversize requests: 4xx with a clear message, nothing changed', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  const before = await readFile(p.configPath, 'utf8')
  const cases: Array<[string, Promise<{ status: number, body: Record<string, unknown> }>, number, string]> = [
    ['malformed JSON', admin(A, 'PUT', '/admin/routes/web/weights', { raw: '{"weights": {' }), 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['wrong type', admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 'lots' } } }), 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['negative weight', admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: -5 } } }), 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['extra field', admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 5 }, force: true } }), 400, 'SY_ERR_ADMIN_BAD_REQUEST'],
    ['unknown backend', admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { green: 5 } } }), 422, 'SY_ERR_CONFIG_INVALID'],
    ['all zero', admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { stable: 0, canary: 0 } } }), 422, 'SY_ERR_CONFIG_INVALID'],
    ['unknown route', admin(A, 'PUT', '/admin/routes/nope/weights', { body: { weights: { canary: 5 } } }), 404, 'SY_ERR_ADMIN_UNKNOWN_ROUTE'],
    ['unknown revision', admin(A, 'POST', '/admin/undo', { body: { toRevision: 42 } }), 404, 'SY_ERR_ADMIN_UNKNOWN_REVISION'],
    ['nothing to roll back', admin(A, 'POST', '/admin/rollback'), 409, 'SY_ERR_ADMIN_NO_PREVIOUS'],
    ['oversize body', admin(A, 'PUT', '/admin/config', { raw: 'x'.repeat(2 * 1024 * 1024), contentType: 'application/yaml' }), 413, 'SY_ERR_ADMIN_TOO_LARGE'],
    ['unsupported media type', admin(A, 'PUT', '/admin/config', { raw: 'a=b', contentType: 'application/x-www-form-urlencoded' }), 415, 'SY_ERR_ADMIN_MEDIA_TYPE'],
    ['unknown endpoint', admin(A, 'GET', '/admin/nope'), 404, 'SY_ERR_ADMIN_NOT_FOUND']
  ]
  for (const [desc, pending, status, code] of cases) {
    const r = await pending
    t.equal(r.status, status, `${desc}: status`)
    t.equal(r.body.error, code, `${desc}: code`)
    t.ok(typeof r.body.message === 'string' && r.body.message.length > 10, `${desc}: message ${String(r.body.message)}`)
  }
  t.equal(await readFile(p.configPath, 'utf8'), before, 'file unchanged')
  t.equal(p.sy.live.current.revision, 1, 'revision unchanged')
})

t.test('a restart comes back with the last revision and its history', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 30 } } })
  await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 60 } } })
  await p.sy.close()

  const again = await createSwitchyard({ configPath: p.configPath, logger: pino({ level: 'silent' }) })
  t.teardown(() => again.close())
  t.equal(again.live.current.revision, 3, 'same revision as before the restart')
  const history = await admin<{ entries: Array<{ revision: number }> }>(again.admin, 'GET', '/admin/history')
  t.same(history.body.entries.map(e => e.revision), [1, 2, 3])
  const back = await admin(again.admin, 'POST', '/admin/rollback')
  t.equal(back.body.summary, 'rollback to revision 2: web: stable 40→70, canary 60→30', 'undo works across the restart')
  await again.close()

  // A file changed while switchyard was stopped is a new revision, saying so.
  await writeFile(p.configPath, configText({ stable: 1, canary: 1 }))
  const third = await createSwitchyard({ configPath: p.configPath, logger: pino({ level: 'silent' }) })
  t.teardown(() => third.close())
  const h3 = await admin<{ entries: Array<{ revision: number, source: string, summary: string }> }>(third.admin, 'GET', '/admin/history')
  t.same(h3.body.entries.at(-1), { ...h3.body.entries.at(-1), revision: 5, source: 'start', summary: 'changed while stopped: web: stable 70→1, canary 30→1' })
})

t.test('revisionHistoryLimit bounds the history', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }).replace('backends:', 'revisionHistoryLimit: 3\nbackends:'))
  t.teardown(() => p.close())
  for (const w of [11, 12, 13, 14]) await admin(p.sy.admin, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: w } } })
  const h = await admin<{ entries: Array<{ revision: number }> }>(p.sy.admin, 'GET', '/admin/history')
  t.same(h.body.entries.map(e => e.revision), [3, 4, 5])
  const gone = await admin(p.sy.admin, 'POST', '/admin/undo', { body: { toRevision: 1 } })
  t.equal(gone.status, 404)
})

t.test('explain and diff', async t => {
  const p = await startWith(configText({ stable: 90, canary: 10 }))
  t.teardown(() => p.close())
  const A = p.sy.admin
  // The explanation agrees with the proxy for every user.
  for (let u = 0; u < 50; u++) {
    const e = await admin<{ backend: string, rule: string }>(A, 'POST', '/admin/explain', { body: { request: { cookies: { sy_id: `u${u}` } } } })
    const r = await p.get('/', { cookie: `sy_id=u${u}` })
    t.equal(e.body.backend, r.headers['x-backend'], `user u${u}`)
  }
  const newUser = await admin<{ backend: null, reason: string }>(A, 'POST', '/admin/explain', { body: { request: { path: '/x?y=1' } } })
  t.equal(newUser.body.backend, null)
  t.match(newUser.body.reason, /a new user: switchyard sets a fresh sy_id cookie, which lands on stable 90 %, canary 10 %/)

  const dry = await admin<{ backend: string, revision: null }>(A, 'POST', '/admin/explain', {
    body: { request: { cookies: { sy_id: 'u1' } }, config: configText({ stable: 0, canary: 1 }) }
  })
  t.same([dry.body.backend, dry.body.revision], ['canary', null], 'a candidate config is explained without being applied')
  t.equal(p.sy.live.current.revision, 1)

  const diff = await admin<{ summary: string, changed: Array<{ route: string, part: string, moves: Array<{ from: string, to: string, percent: number }> }> }>(A, 'POST', '/admin/diff', {
    body: { config: configText({ stable: 75, canary: 25 }) }
  })
  t.equal(diff.body.summary, 'web: stable 90→75, canary 10→25')
  const move = diff.body.changed[0]?.moves
  t.equal(move?.length, 1, 'users only move one way')
  t.same([move?.[0]?.from, move?.[0]?.to], ['stable', 'canary'])
  t.ok(Math.abs((move?.[0]?.percent ?? 0) - 15) < 1, `about 15 % move: ${move?.[0]?.percent}`)
})
