/**
 * The admin listener closes while a browser holds connections: one that
 * never sent a request (a browser's speculative connection) is dropped at
 * once, a request in flight still gets its answer, and its keep-alive
 * connection is ended after it. Without this, close() waits for the browser.
 */
import t from 'tap'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { request, Agent } from 'undici'
import { closeUnusedConnections } from '../../src/admin/idle-sockets.js'

t.test('close() ends unused and finished connections, and lets a request in flight finish', async t => {
  const app = Fastify()
  let release: () => void = () => {}
  let started: () => void = () => {}
  const inHandler = new Promise<void>(resolve => { started = resolve })
  app.get('/slow', async () => {
    started()
    await new Promise<void>(resolve => { release = resolve })
    return 'answered'
  })
  closeUnusedConnections(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo

  const bare = connect(port, '127.0.0.1')
  await new Promise(resolve => bare.once('connect', resolve))
  const bareClosed = new Promise(resolve => bare.once('close', resolve))
  const agent = new Agent({ keepAliveTimeout: 60_000 })
  t.teardown(() => agent.close())
  const answer = request(`http://127.0.0.1:${port}/slow`, { dispatcher: agent }).then(async r => await r.body.text())
  await inHandler

  const closed = app.close()
  await bareClosed
  t.pass('the connection that never sent a request was dropped')
  release()
  t.equal(await answer, 'answered', 'the request in flight got its answer')
  await closed
  t.pass('close() returned with a keep-alive client still holding its connection')
})
