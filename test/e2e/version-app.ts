/**
 * A stand-in for one version of an application: answers every path after
 * `delayMs`, and every `errorEvery`-th request with a 500, so that its error
 * ratio is exactly 1/errorEvery of what it served.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface VersionApp {
  readonly url: string
  served: number
  errors: number
  close (): Promise<void>
}

export async function startVersionApp (opts: { delayMs: number, errorEvery?: number }): Promise<VersionApp> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    req.resume()
    const n = ++app.served
    const fail = opts.errorEvery !== undefined && n % opts.errorEvery === 0
    if (fail) app.errors++
    setTimeout(() => {
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'failed\n' : 'ok\n')
    }, opts.delayMs)
  })
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const app: VersionApp = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served: 0,
    errors: 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return app
}
