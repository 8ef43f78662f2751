/**
 * GET /metrics on the admin listener, in the Prometheus text format. The
 * admin listener keeps scrapes off the data path's port (see admin/server.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

/** The registry a scrape reads: this process's own, or one aggregated over worker processes. */
export type MetricsSource = () => Promise<Registry>

export function registerMetricsRoute (app: FastifyInstance, source: MetricsSource): void {
  app.get('/metrics', async (_req, reply) => {
    const registry = await source()
    await reply.header('cache-control', 'no-store').type(registry.contentType).send(await registry.metrics())
  })
}
