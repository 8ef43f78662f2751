/**
 * gRPC through switchyard: a @grpc/grpc-js client calls two versions of a
 * @grpc/grpc-js service over h2c (cleartext HTTP/2 with prior knowledge) on
 * switchyard's ordinary port. Every call is routed on its own: the split is
 * per call on one connection, rules read metadata, sticky assignment hashes
 * a metadata key; the same over TLS, with one version reached over h2 with
 * TLS. switchyard's own failures reach the client as gRPC statuses.
 */
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeCa, makeLeaf } from '../helpers/certs.js'
import { startWith, writeConfig, type Running } from '../helpers/switchyard.js'
import { scrape } from '../helpers/exposition.js'
import { collect, grpc, grpcClient, metadata, startGrpcBackend, unary, unaryError, type GrpcBackend, type Msg, type VersionClientT } from '../helpers/grpc.js'
import type { Entropy } from '../../src/routing/types.js'

/** random() walks 0.005, 0.015, … 0.995 and around: any 100 consecutive calls split exactly by the weights. */
function steppedEntropy (): Entropy {
  let i = 0
  return { random: () => ((i++ % 100) + 0.5) / 100, newId: () => `id-${i}` }
}

interface Setup { sy: Running, v1: GrpcBackend, v2: GrpcBackend, bad: GrpcBackend, client: () => VersionClientT }

/**
 * v1, v2 and a version answering INTERNAL behind one route. With `tls`,
 * switchyard terminates TLS (ALPN h2) and v2 is reached over h2 with TLS
 * too (its own certificate, checked against the test CA); otherwise all is
 * cleartext (h2c).
 */
async function setup (t: Test, opts: { tls?: boolean } = {}): Promise<Setup> {
  let listenTls: Record<string, unknown> | undefined
  let v2Creds: grpc.ServerCredentials | undefined
  let caPem: Buffer | undefined
  let caFile = ''
  if (opts.tls === true) {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-grpc-tls-'))
    t.teardown(async () => await rm(dir, { recursive: true, force: true }))
    const ca = await makeCa(dir)
    const front = await makeLeaf(dir, ca, 'front', ['localhost'])
    const upstream = await makeLeaf(dir, ca, 'upstream', ['127.0.0.1'])
    listenTls = { certificates: [front] }
    v2Creds = grpc.ServerCredentials.createSsl(null, [{ private_key: await readFile(upstream.key), cert_chain: await readFile(upstream.cert) }])
    caPem = ca.pem
    caFile = ca.cert
  }
  const v1 = await startGrpcBackend('v1')
  const v2 = await startGrpcBackend('v2', { creds: v2Creds })
  const bad = await startGrpcBackend('bad', { fail: grpc.status.INTERNAL })
  const sy = await startWith({
    listen: { host: '127.0.0.1', port: 0, ...(listenTls === undefined ? {} : { tls: listenTls }) },
    shutdown: { drainDelay: '0s', timeout: '2s' },
    backends: {
      v1: { targets: [v1.url], protocol: 'h2c' },
      v2: v2Creds === undefined ? { targets: [v2.url], protocol: 'h2c' } : { targets: [v2.url], protocol: 'h2', tls: { ca: caFile } },
      bad: { targets: [bad.url], protocol: 'h2c', outlierDetection: false }
    },
    routes: [{
      name: 'grpc',
      rules: [
        { name: 'broken', when: { headers: { 'x-broken': { present: true } } }, to: 'bad' },
        { name: 'beta', when: { headers: { 'x-beta': { exact: 'yes' } } }, to: 'v2' }
      ],
      split: { v1: 90, v2: 10 },
      sticky: { header: 'x-user-id' },
      retries: false
    }]
  }, { entropy: steppedEntropy() })
  t.teardown(async () => {
    await sy.close()
    await Promise.all([v1.close(), v2.close(), bad.close()])
  })
  const client = (): VersionClientT => {
    const c = caPem === undefined ? grpcClient(sy.sy.proxyUrl) : grpcClient(sy.sy.proxyUrl.replace('127.0.0.1', 'localhost'), caPem)
    t.teardown(() => c.close())
    return c
  }
  return { sy, v1, v2, bad, client }
}

for (const [name, tls] of [['h2c', false], ['TLS (and h2 with TLS to v2)', true]] as const) {
  t.test(`${name}: unary calls on one connection split 90/10 per call; a metadata rule and sticky keys decide per call`, async t => {
    const { client: newClient } = await setup(t, { tls })
    const client = newClient()
    const seen: Record<string, number> = {}
    for (let i = 0; i < 100; i++) {
      const r = await unary(client)
      seen[r.version ?? '?'] = (seen[r.version ?? '?'] ?? 0) + 1
    }
    t.same(seen, { v1: 90, v2: 10 }, 'exactly the weights over 100 calls on one client connection')

    const beta = await Promise.all(Array.from({ length: 10 }, async () => await unary(client, {}, metadata({ 'x-beta': 'yes' }))))
    t.same(new Set(beta.map(r => r.version)), new Set(['v2']), 'the metadata rule sends every x-beta call to v2')

    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const versions = new Set<string | undefined>()
      for (let i = 0; i < 5; i++) versions.add((await unary(client, {}, metadata({ 'x-user-id': user }))).version)
      t.equal(versions.size, 1, `user ${user} stays on one version across calls`)
    }
    const echoed = await unary(client, {}, metadata({ 'x-beta': 'yes', 'x-tenant': 'acme' }))
    t.equal(echoed.metadata?.['x-tenant'], 'acme', 'metadata reaches the service')
  })

  t.test(`${name}: server-streaming and bidirectional calls are proxied whole, with their status`, async t => {
    const { client: newClient } = await setup(t, { tls })
    const client = newClient()
    const msgs = await collect<Msg>(client.count({ n: 5 }, metadata({ 'x-beta': 'yes' })))
    t.same(msgs.map(m => [m.version, m.n]), [['v2', 0], ['v2', 1], ['v2', 2], ['v2', 3], ['v2', 4]])

    const chat = client.chat(metadata({ 'x-beta': 'yes' }))
    const replies: Msg[] = []
    const status = new Promise<grpc.StatusObject>(resolve => chat.on('status', resolve))
    chat.on('data', (m: Msg) => {
      replies.push(m)
      if (replies.length < 3) chat.write({ n: replies.length })
      else chat.end()
    })
    chat.write({ n: 0 })
    t.equal((await status).code, grpc.status.OK)
    t.same(replies.map(m => m.n), [0, 1, 2], 'each message answered in turn on the open stream')
  })
}

t.test('an INTERNAL answer reaches the client with its message; switchyard answers its own failures as gRPC statuses', async t => {
  const { sy, v1, client: newClient } = await setup(t)
  const client = newClient()
  const err = await unaryError(client, {}, metadata({ 'x-broken': '1' }))
  t.equal(err.code, grpc.status.INTERNAL)
  t.equal(err.details, 'bad fails', 'grpc-message relayed (Trailers-Only)')

  await v1.close()
  let unavailable = 0
  // The next 20 calls are all decided for v1 (the stepped random values are below 0.9).
  for (let i = 0; i < 20; i++) {
    const e = await unaryError(client)
    t.equal(e.code, grpc.status.UNAVAILABLE, 'a dead upstream is UNAVAILABLE, not UNKNOWN')
    t.match(e.details, /backend v1/)
    unavailable++
  }
  t.equal(unavailable, 20)
  t.equal((await unary(client, {}, metadata({ 'x-beta': 'yes' }))).version, 'v2', 'v2 still serves on the same connection')

  const m = await scrape(sy.sy.adminUrl)
  t.same(m.table('switchyard_requests_total', ['backend', 'rule', 'code', 'grpc_code', 'grpc_error']), {
    'backend=bad,rule=broken,code=200,grpc_code=INTERNAL,grpc_error=true': 1,
    'backend=v1,rule=split,code=200,grpc_code=UNAVAILABLE,grpc_error=true': 20,
    'backend=v2,rule=beta,code=200,grpc_code=OK,grpc_error=false': 1
  }, 'every call counted once, with its gRPC status and whether it is an error')
  t.equal(m.value('switchyard_request_duration_seconds_count', { route: 'grpc', backend: 'bad', version: 'bad', grpc_code: 'INTERNAL' }), 1, 'the duration histogram has the gRPC status too')
  t.equal(m.sum('switchyard_upstream_errors_total', { backend: 'v1', kind: 'connect' }), 5, 'five refused connections, then the target is ejected (the rest: no healthy target, UNAVAILABLE too)')
})

t.test('a long-lived stream on a version whose weight went to 0 is ended (UNAVAILABLE) after the grace period; the next call follows the new weights', async t => {
  const v1 = await startGrpcBackend('v1')
  const v2 = await startGrpcBackend('v2')
  const config = (w1: number, w2: number): Record<string, unknown> => ({
    listen: { host: '127.0.0.1', port: 0, http2: { streamDrainGrace: '50ms' } },
    shutdown: { drainDelay: '0s', timeout: '2s' },
    backends: { v1: { targets: [v1.url], protocol: 'h2c' }, v2: { targets: [v2.url], protocol: 'h2c' } },
    routes: [{ name: 'grpc', split: { v1: w1, v2: w2 }, idleTimeout: '0s' }]
  })
  const sy = await startWith(config(100, 0))
  t.teardown(async () => { await sy.close(); await Promise.all([v1.close(), v2.close()]) })
  const client = grpcClient(sy.sy.proxyUrl)
  t.teardown(() => client.close())
  const stream = client.watch({})
  const status = new Promise<grpc.StatusObject>(resolve => stream.on('status', resolve))
  stream.on('error', () => {})
  const first = await new Promise<Msg>(resolve => stream.once('data', resolve))
  t.equal(first.version, 'v1')
  let after = 0
  stream.on('data', () => { after++ })

  await writeConfig(sy.configPath, config(0, 100))
  t.equal((await sy.sy.live.reload('sighup')).result, 'success')
  const s = await status
  t.equal(s.code, grpc.status.UNAVAILABLE, 'the stream ended with UNAVAILABLE')
  t.match(s.details, /stream drained: backend v1/)
  t.ok(after > 0, 'it kept streaming until then')
  t.equal((await unary(client)).version, 'v2', 'the next call lands by the new weights')
  const m = await scrape(sy.sy.adminUrl)
  t.equal(m.value('switchyard_requests_total', { route: 'grpc', backend: 'v1', version: 'v1', rule: 'split', method: 'POST', code: '200', grpc_code: 'UNAVAILABLE', grpc_error: 'false' }), 1, 'a drained stream is not counted as v1\'s error')
})
