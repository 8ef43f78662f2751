/** Logs never carry credentials, and client-supplied text cannot forge log lines. */
import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../src/observability/logger.js'

t.test('Authorization and Cookie are redacted; client text stays inside its JSON string', async t => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const logger = createLogger('info', sink)
  logger.info({
    req: { headers: { authorization: 'Bearer secret-token', cookie: 'sy_id=42; session=abc', 'x-inject': '"}\n{"level":60,"msg":"forged"}' } },
    res: { headers: { 'set-cookie': 'session=abc' } }
  }, 'request')
  t.equal(lines.length, 1, 'one line, however many newlines the client sent')
  const entry = JSON.parse(lines[0] ?? '{}') as { req: { headers: Record<string, string> }, res: { headers: Record<string, string> } }
  t.equal(entry.req.headers.authorization, '[redacted]')
  t.equal(entry.req.headers.cookie, '[redacted]')
  t.equal(entry.res.headers['set-cookie'], '[redacted]')
  t.equal(entry.req.headers['x-inject'], '"}\n{"level":60,"msg":"forged"}', 'kept as data, escaped by JSON')
  t.notMatch(lines[0] ?? '', /secret-token|session=abc/)
})
