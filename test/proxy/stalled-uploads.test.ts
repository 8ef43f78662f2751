/**
 * Issue 11's scenario: 200 uploads that send a few bytes and then nothing,
 * against a backend with 4 connections, while a normal client sends GET /
 * at 20 requests a second. Before: the four uploads holding the connections
 * starved everyone else indefinitely. Now: the uploads that got a connection
 * or a queue slot are cut with 408 after bodyTimeout, the rest are refused at
 * once with 503 (queue full), and every GET is answered: 503 while the queue
 * is full, 200 once the stalled uploads are gone. Timeouts are short so the
 * test runs in seconds; it asserts outcomes and prints what it saw.
 */
import t from 'tap'
import { Agent, request } from 'undici'
import { scrape } from '../helpers/exposition.js'
import { startSinkBackend, stalledUpload } from '../helpers/stalled.js'
import { startWith } from '../helpers/switchyard.js'

const UPLOADS = 200
const CONNECTIONS = 4
const MAX_PENDING = 8
const MIN_GETS = 50 // 2.5 s at 20 a second
const MAX_GETS = 400

interface GetOutcome { status: number, text: string, ms: number, afterUploads: boolean }

t.test('200 stalled uploads cannot starve a backend with 4 connections', async t => {
  const sink = await startSinkBackend()
  const p = await startWith({
    listen: { host: '127.0.0.1', port: 0, bodyTimeout: '1s' },
    shutdown: { drainDelay: '0s', timeout: '1s' },
    backends: { app: { targets: [sink.url], connections: CONNECTIONS, maxPending: MAX_PENDING, queueTimeout: '2s' } },
    routes: [{ name: 'r', to: 'app', timeout: '3s' }]
  })
  const agent = new Agent({ connections: 8 })
  t.teardown(async () => {
    await agent.close()
    await p.close()
    await sink.close()
  })

  const started = performance.now()
  const uploads = Array.from({ length: UPLOADS }, () => stalledUpload(p.sy.proxyUrl))
  let uploadsDone = false
  const uploadAnswers = Promise.all(uploads.map(async u => await u.closed)).then(all => {
    uploadsDone = true
    return { all, ms: performance.now() - started }
  })
  // The GETs start once the stalled uploads fill the connections.
  while (sink.heads < CONNECTIONS) await new Promise(resolve => setTimeout(resolve, 10))

  // At least 2.5 s of GETs, and at least 10 once the stalled uploads are gone (bounded).
  const gets: Array<Promise<GetOutcome>> = []
  for (let i = 0, after = 0; (i < MIN_GETS || after < 10) && i < MAX_GETS; i++) {
    const afterUploads = uploadsDone
    if (afterUploads) after++
    const t0 = performance.now()
    gets.push(request(`${p.sy.proxyUrl}/`, { dispatcher: agent }).then(async res => ({
      status: res.statusCode,
      text: await res.body.text(),
      ms: performance.now() - t0,
      afterUploads
    })))
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const getOutcomes = await Promise.all(gets)
  const { all: uploadOutcomes, ms: uploadsClosedMs } = await uploadAnswers

  const count = (xs: Array<{ status: number }>, status: number): number => xs.filter(x => x.status === status).length
  const getsOk = count(getOutcomes, 200)
  const gets503 = count(getOutcomes, 503)
  const uploads408 = count(uploadOutcomes, 408)
  const uploads503 = count(uploadOutcomes, 503)
  const slowestGet = Math.max(...getOutcomes.map(g => g.ms))
  t.comment(`stalled uploads: ${uploads408} × 408 (body timeout), ${uploads503} × 503 (queue full); all closed ${Math.round(uploadsClosedMs)} ms after they started`)
  t.comment(`GET /: ${getOutcomes.length} sent, ${getsOk} × 200, ${gets503} × 503 (queue full); slowest answer ${Math.round(slowestGet)} ms (queueTimeout 2 s, bodyTimeout 1 s)`)

  // On an idle machine exactly 12 get a connection or a queue slot; on a
  // loaded one the first are cut before the last have even arrived, which
  // frees room for a few more.
  t.ok(uploads408 >= CONNECTIONS + MAX_PENDING, 'the uploads holding a connection or a queue slot were cut with 408')
  t.equal(uploads408 + uploads503, UPLOADS, 'the others were refused at once with 503: no other outcome')
  t.ok(uploadOutcomes.every(u => u.headers.connection === 'close'), 'every stalled upload was told its connection closes (and it did: `closed` resolved)')
  t.equal(getsOk + gets503, getOutcomes.length, 'every GET was answered: 200, or 503 while the queue was full (none waited out the 2 s queue timeout)')
  const refusals = new Set([...getOutcomes, ...uploadOutcomes.map(u => ({ status: u.status, text: u.body }))].filter(g => g.status === 503).map(g => g.text))
  t.same([...refusals], [`upstream queue full: ${CONNECTIONS} connections busy and ${MAX_PENDING} requests waiting (maxPending ${MAX_PENDING}, target ${sink.url}) (backend app)\n`], 'every 503 names the backend and the limit')
  const later = getOutcomes.filter(g => g.afterUploads)
  t.ok(later.length > 0, 'some GETs were sent after the stalled uploads were gone')
  t.equal(count(later, 200), later.length, 'and every one of them was served')

  const m = await scrape(p.sy.adminUrl)
  t.equal(m.sum('switchyard_upstream_errors_total'), 0, 'no upstream error: the backend was never at fault')
  t.equal(m.value('switchyard_upstream_queue_rejections_total', { route: 'r', backend: 'app', target: sink.url, reason: 'queue_full' }), uploads503 + gets503)
  t.equal(m.value('switchyard_requests_total', { route: 'r', backend: 'app', version: 'app', rule: 'split', method: 'POST', code: '408' }), uploads408)
  t.equal(m.value('switchyard_upstream_queue_waiting', { backend: 'app', target: sink.url }), 0)
})
