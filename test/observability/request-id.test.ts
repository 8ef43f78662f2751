/**
 * Request IDs: kept from a trusted client when well-formed, generated
 * otherwise; the same ID upstream and in the response, on switchyard's own
 * answers too.
 */
import t from 'tap'
import fc from 'fast-check'
import { RequestIdSource, requestIdFor } from '../../src/proxy/request-id.js'
import { startBackends, type EchoReply } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

t.test('generated IDs: a per-process prefix and a counter, unique across sources', async t => {
  const fixed = new RequestIdSource('abc')
  t.same([fixed.next(), fixed.next(), fixed.next()], ['abc-1', 'abc-2', 'abc-3'])
  const a = new RequestIdSource()
  const b = new RequestIdSource()
  const ids = new Set<string>()
  for (let i = 0; i < 1000; i++) { ids.add(a.next()); ids.add(b.next()) }
  t.equal(ids.size, 2000)
  t.match(a.next(), /^[0-9a-f]{12}-[0-9a-z]+$/)
})

t.test('a client ID is kept only when trusted and well-formed', async t => {
  const ids = new RequestIdSource('gen')
  t.equal(requestIdFor('client-42', true, ids), 'client-42')
  t.equal(requestIdFor('client-42', false, ids), 'gen-1')
  t.equal(requestIdFor(undefined, true, ids), 'gen-2')
  t.equal(requestIdFor(['a', 'b'], true, ids), 'gen-3', 'a repeated header is not one ID')
  t.equal(requestIdFor('has space', true, ids), 'gen-4')
  t.equal(requestIdFor('x'.repeat(201), true, ids), 'gen-5', 'at most 200 characters')
  fc.assert(fc.property(fc.string({ maxLength: 250 }), fc.boolean(), (sent, trust) => {
    const id = requestIdFor(sent, trust, new RequestIdSource('p'))
    const wellFormed = /^[\x21\x23-\x7e]{1,200}$/.test(sent)
    // Kept exactly when trusted and well-formed; otherwise a generated one, never the client's text.
    return trust && wellFormed ? id === sent : id === 'p-1'
  }))
})

const { app } = await startBackends(t, 'app')

t.test('untrusted (default): the client\'s ID is replaced, upstream and in the response', async t => {
  const p = await startWith({ backends: { app: { targets: [app.url] } }, routes: [{ name: 'r', match: { path: { prefix: '/in' } }, to: 'app' }] })
  t.teardown(() => p.close())
  const r = await p.get('/in', { 'x-request-id': 'forged' })
  const id = r.headers['x-request-id']
  t.not(id, 'forged')
  t.match(id, /^[0-9a-f]{12}-[0-9a-z]+$/)
  t.equal(r.json<EchoReply>().headers['x-request-id'], id, 'the backend saw the ID the client got')
  t.same(r.json<EchoReply>().rawHeaders.filter(h => h.toLowerCase() === 'x-request-id').length, 1, 'one header, not two')
  const notFound = await p.get('/elsewhere')
  t.equal(notFound.status, 404)
  t.match(notFound.headers['x-request-id'], /^[0-9a-f]{12}-/, 'switchyard\'s own answers carry one too')
})

t.test('trusted through trustForwarded, or on its own; a custom header', async t => {
  const viaForwarded = await startWith({ proxy: { trustForwarded: true }, backends: { app: { targets: [app.url] } }, routes: [{ name: 'r', to: 'app' }] })
  t.teardown(() => viaForwarded.close())
  const kept = await viaForwarded.get('/', { 'x-request-id': 'abc-123' })
  t.equal(kept.headers['x-request-id'], 'abc-123')
  t.equal(kept.json<EchoReply>().headers['x-request-id'], 'abc-123')
  const bad = await viaForwarded.get('/', { 'x-request-id': 'two words' })
  t.not(bad.headers['x-request-id'], 'two words', 'a malformed ID is replaced even when trusted')

  const custom = await startWith({
    proxy: { trustForwarded: true, requestId: { header: 'X-Correlation-Id', trust: false } },
    backends: { app: { targets: [app.url] } },
    routes: [{ name: 'r', to: 'app' }]
  })
  t.teardown(() => custom.close())
  const r = await custom.get('/', { 'x-correlation-id': 'mine', 'x-request-id': 'other' })
  const seen = r.json<EchoReply>()
  t.not(r.headers['x-correlation-id'], 'mine', '`trust: false` overrides trustForwarded')
  t.equal(seen.headers['x-correlation-id'], r.headers['x-correlation-id'])
  t.equal(seen.headers['x-request-id'], 'other', 'x-request-id is an ordinary header then')
  t.equal(r.headers['x-request-id'], undefined)
})
