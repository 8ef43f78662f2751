/**
 * A TCP relay on 127.0.0.1 in front of one server, to cut a single client
 * off (a network partition) while other clients keep talking to the server.
 * close() ends every relayed connection; reopen() lets new ones through.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpGate {
  /** `127.0.0.1:PORT` to connect to instead of the target. */
  readonly hostPort: string
  /** Cut: existing connections are reset, new ones are accepted and reset at once. */
  cut (): void
  reopen (): void
  close (): Promise<void>
}

export async function startTcpGate (targetHost: string, targetPort: number): Promise<TcpGate> {
  const sockets = new Set<Socket>()
  let isCut = false
  const server: Server = createServer(client => {
    if (isCut) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(targetPort, targetHost)
    // Either side ending ends both, by destroy rather than pipe's end(): a
    // half-closed socket whose shutdown waits on a peer that no longer reads
    // keeps Node spinning at exit.
    const both = (): void => { client.destroy(); upstream.destroy() }
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => { sockets.delete(s); both() })
      s.on('end', both)
      s.on('error', both)
    }
    client.pipe(upstream, { end: false })
    upstream.pipe(client, { end: false })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('gate has no port')
  return {
    hostPort: `127.0.0.1:${address.port}`,
    cut () {
      isCut = true
      for (const s of sockets) s.resetAndDestroy()
    },
    reopen () {
      isCut = false
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
