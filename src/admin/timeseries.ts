/**
 * GET /admin/timeseries: the in-memory samples of the last minutes per
 * (route, backend, version), for the web console's charts. Same read rules
 * as the rest of /admin. `?since=<ms>` returns only newer samples, so a page
 * that polls fetches a few numbers per series, not the whole window.
 */
import type { FastifyInstance } from 'fastify'
import { SwitchyardError } from '../errors.js'
import type { TimeseriesSampler } from '../observability/timeseries.js'
import { requireRead, type AdminAuth } from './auth.js'

interface Query { since?: string, route?: string }

export function registerTimeseries (app: FastifyInstance, sampler: TimeseriesSampler, auth: AdminAuth): void {
  app.get<{ Querystring: Query }>('/admin/timeseries', { preHandler: requireRead(auth) }, async (req, reply) => {
    const { since, route } = req.query
    if (since !== undefined && !/^\d{1,16}$/.test(since)) throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', 'querystring/since must be a time in milliseconds since the epoch')
    void reply.header('cache-control', 'no-store')
    return sampler.read({ since: since === undefined ? undefined : Number(since), route })
  })
}
