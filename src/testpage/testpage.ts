/**
 * The classic "testpage" demo backend: answers every request with
 * `I am: <addr>, the version is: <version>`, so that a curl loop shows which
 * version served it. Started by `switchyard serve --demo` for every local
 * target of the config, and by the tests and the rollout demo.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Testpage {
  readonly server: Server
  readonly url: string
  close (): Promise<void>
}

export async function startTestpage (version: string, port = 0, host = '127.0.0.1'): Promise<Testpage> {
  let addr = `${host}:${port}`
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    const body = `I am: ${addr}, the version is: ${version}\n`
    req.resume()
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-version': version, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const bound = server.address() as AddressInfo
  addr = `${host}:${bound.port}`
  return {
    server,
    url: `http://${addr}`,
    close: async () => await new Promise<void>(resolve => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}
