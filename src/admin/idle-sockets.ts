/**
 * Lets the admin listener close while browsers hold connections to it.
 * A browser with the console open keeps keep-alive connections, and opens
 * speculative ones that never carry a request; Node's
 * closeIdleConnections(), which fastify calls once on close, does not count
 * the latter, nor a keep-alive connection whose request was still running
 * then, so close() — a SIGTERM's shutdown — would wait for the browser.
 * From close on, a connection is ended as soon as it has no request in
 * progress; requests in flight still finish.
 */
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

export function closeUnusedConnections (app: FastifyInstance): void {
  /** Open connections and how many of their requests are in progress. */
  const busy = new Map<Socket, number>()
  let closing = false
  app.server.on('connection', (socket: Socket) => {
    busy.set(socket, 0)
    socket.once('close', () => busy.delete(socket))
  })
  app.server.on('request', (req, res) => {
    const socket = req.socket
    busy.set(socket, (busy.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const n = (busy.get(socket) ?? 1) - 1
      busy.set(socket, n)
      if (closing && n === 0) socket.end()
    })
  })
  app.addHook('preClose', async () => {
    closing = true
    for (const [socket, n] of busy) if (n === 0) socket.destroy()
  })
}
