/**
 * The admin listener (fastify): health endpoints here; metrics and the
 * admin API register on the same instance (see their modules). Kept off the
 * data path's port so that probes and scrapes never compete with traffic
 * rules, and so it can bind to loopback while the proxy listens publicly.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export interface Readiness {
  /** Config loaded and the proxy listener up, and not draining. */
  ready (): boolean
  /** Why not ready, for the 503 body. */
  reason (): string
}

export interface AdminOptions {
  readonly logger: Logger
  readonly readiness: Readiness
}

export function buildAdminApp (opts: AdminOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'admin' }) as FastifyBaseLogger,
    // Admin requests are rare and operator-driven: log them at debug, not info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024
  })
  app.get('/healthz', async (_req, reply) => {
    await reply.type('text/plain').send('ok\n')
  })
  app.get('/readyz', async (_req, reply) => {
    if (opts.readiness.ready()) return await reply.type('text/plain').send('ready\n')
    await reply.code(503).type('text/plain').send(`not ready: ${opts.readiness.reason()}\n`)
  })
  return app
}
