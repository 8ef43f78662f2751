/**
 * TLS termination and HTTP/2 on the proxy's one port: curl with
 * --http2-prior-knowledge in cleartext, and over TLS with --http2 and
 * --http1.1 on the same port; certificates chosen by SNI; replacing the
 * certificate files changes the served certificate without a restart, and
 * a gRPC client calls through TLS.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { connect as tlsConnect } from 'node:tls'
import { startBackend } from '../helpers/backends.js'
import { makeCa, makeLeaf } from '../helpers/certs.js'
import { startWith } from '../helpers/switchyard.js'
import { grpcClient, metadata, startGrpcBackend, unary } from '../helpers/grpc.js'

const run = promisify(execFile)

async function curl (args: string[]): Promise<{ version: string, status: string, body: string }> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_version} %{http_code}', ...args])
  const lines = stdout.split('\n')
  const [version, status] = (lines.pop() ?? '').split(' ')
  return { version: version ?? '', status: status ?? '', body: lines.join('\n') }
}

/** The CN of the certificate served for `servername`. */
async function servedCn (port: number, servername: string, ca: Buffer): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca }, () => {
      const cn = socket.getPeerCertificate().subject.CN
      socket.end()
      resolve(Array.isArray(cn) ? cn.join(',') : String(cn))
    })
    socket.on('error', reject)
  })
}

t.test('h2c prior knowledge beside HTTP/1.1 in cleartext; curl sees the same backend', async t => {
  const backend = await startBackend('one')
  const sy = await startWith({ shutdown: { drainDelay: '0s' }, backends: { one: { targets: [backend.url] } }, routes: [{ name: 'all', to: 'one' }] })
  t.teardown(async () => { await sy.close(); await backend.close() })
  const h2 = await curl(['--http2-prior-knowledge', `${sy.sy.proxyUrl}/hello?x=1`])
  t.equal(h2.version, '2')
  t.equal(h2.status, '200')
  const echo = JSON.parse(h2.body) as { url: string, headers: Record<string, string> }
  t.equal(echo.url, '/hello?x=1')
  t.match(echo.headers.host, /^127\.0\.0\.1:\d+$/, ':authority became the Host upstream')
  t.notOk(Object.keys(echo.headers).some(h => h.startsWith(':')), 'no pseudo-header is forwarded')
  const h1 = await curl(['--http1.1', `${sy.sy.proxyUrl}/hello`])
  t.equal(h1.version, '1.1')
  t.equal(h1.status, '200')
  const post = await curl(['--http2-prior-knowledge', '--data-binary', 'x'.repeat(100_000), `${sy.sy.proxyUrl}/echo-body`])
  t.equal(post.body.length, 100_000, 'a request body streams through over h2c')
})

t.test('TLS: ALPN h2 and http/1.1 on one port, SNI picks the certificate, rotated files are served without a restart', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-tls-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const ca = await makeCa(dir)
  const main = await makeLeaf(dir, ca, 'main', ['localhost', '127.0.0.1'])
  const other = await makeLeaf(dir, ca, 'other', ['api.example.test'])
  const backend = await startBackend('one')
  const grpcV1 = await startGrpcBackend('v1')
  const sy = await startWith({
    listen: { host: '127.0.0.1', port: 0, tls: { certificates: [main, other] } },
    shutdown: { drainDelay: '0s' },
    backends: { one: { targets: [backend.url] }, g: { targets: [grpcV1.url], protocol: 'h2c' } },
    routes: [{ name: 'grpc', match: { path: { prefix: '/test.Version/' } }, to: 'g' }, { name: 'all', to: 'one' }]
  })
  t.teardown(async () => { await sy.close(); await backend.close(); await grpcV1.close() })
  const url = sy.sy.proxyUrl
  t.match(url, /^https:\/\//)
  const port = Number(new URL(url).port)

  const h2 = await curl(['--cacert', ca.cert, '--http2', `https://localhost:${port}/a`, '--resolve', `localhost:${port}:127.0.0.1`])
  t.equal(h2.version, '2', 'ALPN h2')
  t.equal(h2.status, '200')
  t.equal((JSON.parse(h2.body) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https')
  const h1 = await curl(['--cacert', ca.cert, '--http1.1', `https://localhost:${port}/a`, '--resolve', `localhost:${port}:127.0.0.1`])
  t.equal(h1.version, '1.1', 'ALPN http/1.1 on the same port')
  t.equal(h1.status, '200')

  t.equal(await servedCn(port, 'api.example.test', ca.pem), 'api.example.test', 'SNI chooses the second certificate')
  t.equal(await servedCn(port, 'localhost', ca.pem), 'localhost', 'the default otherwise')

  const client = grpcClient(`https://localhost:${port}`, ca.pem)
  t.teardown(() => client.close())
  t.equal((await unary(client, {}, metadata({ 'x-user-id': 'u' }))).version, 'v1', 'gRPC over TLS (ALPN h2)')

  // cert-manager style rotation: new files renamed over the old ones.
  const rotated = await makeLeaf(dir, ca, 'rotated', ['rotated.example.test', 'localhost'])
  await copyFile(rotated.key, join(dir, 'main.key.new'))
  await copyFile(rotated.cert, join(dir, 'main.crt.new'))
  await rename(join(dir, 'main.key.new'), main.key)
  await rename(join(dir, 'main.crt.new'), main.cert)
  // The reload is asynchronous (a file watch): look at new handshakes, boundedly.
  let cn = await servedCn(port, 'localhost', ca.pem)
  for (let i = 0; i < 100 && cn === 'localhost'; i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
    cn = await servedCn(port, 'localhost', ca.pem)
  }
  t.equal(cn, 'rotated.example.test', 'the rotated certificate is served, without a restart')
  t.equal((await unary(client, {}, metadata({ 'x-user-id': 'u' }))).version, 'v1', 'the established gRPC connection keeps working')
})
