/**
 * Drain with HTTP/2 clients: on stop, every client session gets GOAWAY, the
 * stream in flight finishes with its answer, and the connection then closes.
 */
import t from 'tap'
import { once } from 'node:events'
import { connect } from 'node:http2'
import { startBackend } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

t.test('stop: GOAWAY to HTTP/2 clients, the stream in flight finishes', async t => {
  const backend = await startBackend('one')
  t.teardown(async () => await backend.close())
  const sy = await startWith({ shutdown: { drainDelay: '0s', timeout: '5s' }, backends: { one: { targets: [backend.url] } }, routes: [{ name: 'all', to: 'one' }] })
  const session = connect(sy.sy.proxyUrl)
  session.on('error', () => {})
  const goaway = once(session, 'goaway')
  const closed = once(session, 'close')
  const req = session.request({ ':path': '/stream/30' })
  req.end()
  const [headers] = await once(req, 'response') as [Record<string, unknown>]
  t.equal(headers[':status'], 200, 'the head came before the stop')
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (d: string) => { body += d })
  const ended = once(req, 'end')
  const stopped = sy.close()
  await goaway
  t.pass('the client got GOAWAY')
  await ended
  t.equal(body.length, 30 * 1024, 'the stream in flight (30 chunks, 10 ms apart) finished with its whole answer')
  await closed
  await stopped
})
