/**
 * W3C trace context and OpenTelemetry spans through a real switchyard:
 * with tracing off, traceparent/tracestate reach the backend unchanged;
 * with it on, the backend gets a traceparent continued from switchyard's
 * span, and the span reaches an OTLP/HTTP receiver (a node:http server
 * decoding the exporter's JSON).
 */
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deadPort, startBackends, type EchoReply } from '../helpers/backends.js'
import { startWith } from '../helpers/switchyard.js'

interface OtlpValue { stringValue?: string, intValue?: string | number, boolValue?: boolean }
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Array<{ key: string, value: OtlpValue }>
  status?: { code?: number }
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: OtlpValue }> }, scopeSpans: Array<{ spans: OtlpSpan[] }> }>
}

/** An OTLP/HTTP traces receiver on 127.0.0.1: keeps every span it is sent. */
async function startReceiver (): Promise<{ url: string, spans: OtlpSpan[], services: string[] }> {
  const spans: OtlpSpan[] = []
  const services: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      t.equal(req.url, '/v1/traces')
      t.match(req.headers['content-type'], /^application\/json/)
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport
      for (const rs of body.resourceSpans) {
        services.push(String(rs.resource.attributes.find(a => a.key === 'service.name')?.value.stringValue))
        for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, services }
}

function attr (span: OtlpSpan | undefined, key: string): unknown {
  const v = span?.attributes.find(a => a.key === key)?.value
  if (v === undefined) return undefined
  return v.stringValue ?? (v.intValue === undefined ? undefined : Number(v.intValue)) ?? v.boolValue
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const { stable } = await startBackends(t, 'stable')
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/

t.test('tracing off: traceparent and tracestate reach the backend unchanged', async t => {
  const p = await startWith({ backends: { stable: { targets: [stable.url] } }, routes: [{ name: 'r', to: 'stable' }] })
  t.teardown(() => p.close())
  const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`
  const seen = (await p.get('/', { traceparent, tracestate: 'vendor=abc' })).json<EchoReply>()
  t.equal(seen.headers.traceparent, traceparent)
  t.equal(seen.headers.tracestate, 'vendor=abc')
  t.equal(seen.headers['x-request-id'] !== undefined, true, 'the request ID still goes upstream')
})

t.test('tracing on: the trace continues upstream and the span is exported over OTLP/HTTP', async t => {
  const receiver = await startReceiver()
  const dead = `http://127.0.0.1:${await deadPort()}`
  const p = await startWith({
    tracing: { enabled: true, endpoint: `${receiver.url}/v1/traces`, serviceName: 'edge-proxy' },
    backends: { stable: { version: '1.4', targets: [stable.url] }, gone: { targets: [dead] } },
    routes: [
      { name: 'broken', match: { path: { prefix: '/broken' } }, to: 'gone', retries: false },
      { name: 'web', to: 'stable' }
    ]
  })
  t.teardown(() => p.close())

  const continued = await p.get('/page?x=1', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=abc' })
  const seen = continued.json<EchoReply>()
  const up = TRACEPARENT.exec(String(seen.headers.traceparent))
  t.ok(up !== null, `a valid traceparent upstream: ${String(seen.headers.traceparent)}`)
  t.equal(up?.[1], TRACE_ID, 'same trace')
  t.not(up?.[2], PARENT_ID, 'switchyard\'s span is the backend\'s parent')
  t.equal(up?.[3], '1', 'sampled, as the client asked')
  t.equal(seen.headers.tracestate, 'vendor=abc')

  const fresh = (await p.get('/new')).json<EchoReply>()
  const freshUp = TRACEPARENT.exec(String(fresh.headers.traceparent))
  t.ok(freshUp !== null && freshUp[1] !== TRACE_ID, 'no traceparent from the client: a new trace')

  const unsampled = (await p.get('/quiet', { traceparent: `00-${'a'.repeat(32)}-${PARENT_ID}-00` })).json<EchoReply>()
  t.match(unsampled.headers.traceparent, new RegExp(`^00-${'a'.repeat(32)}-[0-9a-f]{16}-00$`), 'an unsampled trace stays unsampled')

  const broken = await p.get('/broken', { traceparent: `00-${'b'.repeat(32)}-${PARENT_ID}-01` })
  t.equal(broken.status, 502)

  await p.sy.close() // the tracer exports what it holds when it stops

  t.same(receiver.services.every(s => s === 'edge-proxy'), true)
  const byTrace = new Map(receiver.spans.map(s => [s.traceId, s]))
  t.equal(receiver.spans.length, 3, 'one span per sampled request; none for the unsampled one')
  const span = byTrace.get(TRACE_ID)
  t.equal(span?.parentSpanId, PARENT_ID)
  t.equal(span?.spanId, up?.[2], 'the exported span is the parent the backend saw')
  t.equal(span?.name, 'GET web')
  t.equal(span?.kind, 2, 'SERVER')
  t.equal(attr(span, 'switchyard.route'), 'web')
  t.equal(attr(span, 'switchyard.backend'), 'stable')
  t.equal(attr(span, 'switchyard.version'), '1.4')
  t.equal(attr(span, 'switchyard.target'), stable.url)
  t.equal(attr(span, 'switchyard.request_id'), continued.headers['x-request-id'])
  t.equal(attr(span, 'http.response.status_code'), 200)
  t.equal(attr(span, 'url.path'), '/page')
  t.equal(span?.status?.code ?? 0, 0, 'unset status for a 200')
  const freshSpan = byTrace.get(freshUp?.[1] ?? '')
  t.ok(freshSpan !== undefined && (freshSpan.parentSpanId === undefined || freshSpan.parentSpanId === ''), 'the new trace\'s span is a root')
  const brokenSpan = byTrace.get('b'.repeat(32))
  t.equal(attr(brokenSpan, 'http.response.status_code'), 502)
  t.equal(attr(brokenSpan, 'error.type'), 'connect')
  t.equal(brokenSpan?.status?.code, 2, 'ERROR')
})
