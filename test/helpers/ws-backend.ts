/** A real WebSocket server on 127.0.0.1 standing in for one version of an app. */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'

export interface WsBackend {
  readonly url: string
  close (): Promise<void>
}

/** Starts a WebSocket server; `onConnection` runs for every accepted connection. */
export async function startWsBackend (onConnection: (ws: WebSocket, req: IncomingMessage) => void): Promise<WsBackend> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await once(wss, 'listening')
  wss.on('connection', onConnection)
  return {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>(resolve => wss.close(() => resolve()))
    }
  }
}
