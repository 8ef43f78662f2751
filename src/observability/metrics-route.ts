/**
 * GET /metrics on the admin listener, in the Prometheus text format. The
 * admin listener keeps scrapes off the data path's port (see admin/server.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export function registerMetricsRoute (app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics()
    await reply.header('cache-control', 'no-store').type(registry.contentType).send(body)
  })
}
