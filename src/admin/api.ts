/**
 * The admin API under /admin: an HTTP adapter over the operations service
 * (src/control/operations.ts). It reads the running config, its status and
 * history; turns requests into changes (whole config, weights, promote,
 * rollback, undo) and questions (explain, diff); and answers coded errors
 * with their HTTP status (http-errors.ts). Reads carry the revision as an
 * ETag; writes honour If-Match and answer 412 when the config changed in
 * between (RFC 9110), and take `?force` to overwrite a config file that no
 * longer holds the running revision.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SwitchyardError } from '../errors.js'
import type { LiveConfig } from '../control/live-config.js'
import type { ChangeOptions, Operations } from '../control/operations.js'
import type { PlaneLink } from '../link/link.js'
import type { MetricsSource } from '../observability/metrics-route.js'
import { requireMutation, requireRead, type AdminAuth } from './auth.js'
import { statusBody, type FleetStatus } from './status.js'
import * as validators from '../config/generated/admin-validators.js'
import type { CompiledValidator } from '../config/validate.js'
import type { ConfigBodyT, DiffBodyT, ExplainBodyT, PromoteBodyT, UndoBodyT, WeightsBodyT } from './schemas.js'

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']

/** A request body checked by its build-time compiled schema; the first problem is a 400. */
function bodyOf<T> (validate: CompiledValidator<T>, body: unknown): T {
  if (validate(body)) return body
  const e = validate.errors?.[0]
  throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', `body${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`)
}

const v = {
  config: validators.validateConfigBody as CompiledValidator<ConfigBodyT>,
  weights: validators.validateWeightsBody as CompiledValidator<WeightsBodyT>,
  promote: validators.validatePromoteBody as CompiledValidator<PromoteBodyT>,
  undo: validators.validateUndoBody as CompiledValidator<UndoBodyT>,
  explain: validators.validateExplainBody as CompiledValidator<ExplainBodyT>,
  diff: validators.validateDiffBody as CompiledValidator<DiffBodyT>
}

export const etagOf = (revision: number): string => `"${revision}"`

/**
 * RFC 9110 §13.1.1: If-Match is `*` or a list of entity tags (weak tags
 * compare weakly here) → the revisions the client read; undefined for none
 * or `*`. A tag that names no revision matches nothing.
 */
function expectedRevisions (header: string | undefined): readonly number[] | undefined {
  if (header === undefined) return undefined
  const tags = header.split(',').map(s => s.trim().replace(/^W\//, ''))
  if (tags.includes('*')) return undefined
  return tags.flatMap(tag => /^"([1-9][0-9]{0,9})"$/.exec(tag)?.[1] ?? []).map(Number)
}

/** `?force`, `?force=true` or `=1`: overwrite a config file that differs from the running revision. */
function forceOf (query: unknown): boolean {
  const force = (query as Record<string, unknown> | undefined)?.force
  if (force === undefined || force === 'false' || force === '0') return false
  if (force === '' || force === 'true' || force === '1') return true
  throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', `querystring/force must be true or false, not ${JSON.stringify(force)}`)
}

function changeOptions (req: FastifyRequest): ChangeOptions {
  return {
    origin: req.headers['x-switchyard-client'] === 'cli' ? 'cli' : 'api',
    expected: expectedRevisions(req.headers['if-match']),
    force: forceOf(req.query)
  }
}

interface RouteParams { route: string }

export interface AdminApiOptions {
  readonly live: LiveConfig
  readonly operations: Operations
  /** The data planes, for the targets' health in the status. */
  readonly plane: Pick<PlaneLink, 'targets'>
  /** What /metrics serves; /admin/metrics gives it as prom-client's JSON (for `switchyard ramp`). */
  readonly metrics: MetricsSource
  readonly auth: AdminAuth
  /** With a fleet's store: the store's state and the live replicas, for the status. */
  readonly fleet?: () => Promise<FleetStatus>
}

export function registerAdminApi (app: FastifyInstance, opts: AdminApiOptions): void {
  const { live, operations: ops } = opts
  const read = requireRead(opts.auth)
  const mutate = requireMutation(opts.auth)

  // JSON (fastify's own parser) and YAML only: fastify also takes text/plain by default, which the API documents as 415.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => { done(null, body) })

  const current = (reply: FastifyReply) => {
    const active = live.current
    void reply.header('etag', etagOf(active.revision))
    return active
  }
  /** A change's answer carries the new revision as its ETag. */
  const changed = <T extends { revision: number }>(reply: FastifyReply, result: T): T => {
    void reply.header('etag', etagOf(result.revision))
    return result
  }

  app.get('/admin/status', { preHandler: read }, async (_req, reply) => {
    const [targets, fleet] = await Promise.all([opts.plane.targets(), opts.fleet?.()])
    current(reply)
    return { ...statusBody(live, targets), ...fleet }
  })

  app.get('/admin/metrics', { preHandler: read }, async (_req, reply) => {
    void reply.header('cache-control', 'no-store')
    return await (await opts.metrics()).getMetricsAsJSON()
  })

  app.get('/admin/config', { preHandler: read }, async (req, reply) => {
    const active = current(reply)
    const accept = req.headers.accept ?? ''
    if (YAML_TYPES.some(t => accept.includes(t))) return await reply.type('application/yaml').send(active.text)
    return active.table.config
  })

  app.put('/admin/config', { preHandler: mutate }, async (req, reply) =>
    changed(reply, await ops.applyConfig(bodyOf(v.config, req.body), changeOptions(req))))

  app.put<{ Params: RouteParams }>('/admin/routes/:route/weights', { preHandler: mutate }, async (req, reply) =>
    changed(reply, await ops.setWeights(req.params.route, bodyOf(v.weights, req.body).weights, changeOptions(req))))

  app.post<{ Params: RouteParams }>('/admin/routes/:route/promote', { preHandler: mutate }, async (req, reply) =>
    changed(reply, await ops.promote(req.params.route, bodyOf(v.promote, req.body).backend, changeOptions(req))))

  app.post('/admin/rollback', { preHandler: mutate }, async (req, reply) =>
    changed(reply, await ops.rollback(changeOptions(req))))

  app.post('/admin/undo', { preHandler: mutate }, async (req, reply) =>
    changed(reply, await ops.undo(bodyOf(v.undo, req.body).toRevision, changeOptions(req))))

  app.get('/admin/history', { preHandler: read }, async (_req, reply) => {
    // A fleet's history is shared: read it again, so every replica answers the same.
    await live.history.refresh()
    const active = current(reply)
    return {
      revision: active.revision,
      entries: live.history.list().map(({ config: _config, ...e }) => ({ ...e, current: e.revision === active.revision }))
    }
  })

  app.get<{ Params: { revision: string } }>('/admin/history/:revision', { preHandler: read }, async (req, reply) => {
    current(reply)
    if (!/^[1-9][0-9]{0,9}$/.test(req.params.revision)) throw new SwitchyardError('SY_ERR_ADMIN_BAD_REQUEST', 'params/revision must be a revision number')
    await live.history.refresh()
    const entry = live.history.get(Number(req.params.revision))
    if (entry === undefined) throw new SwitchyardError('SY_ERR_ADMIN_UNKNOWN_REVISION', `revision ${req.params.revision} is not in the history`)
    return entry
  })

  app.post('/admin/explain', { preHandler: read }, async (req, reply) => {
    const body = bodyOf(v.explain, req.body)
    current(reply)
    return ops.explain(body.request, body.config)
  })

  app.post('/admin/diff', { preHandler: read }, async (req, reply) => {
    const body = bodyOf(v.diff, req.body)
    current(reply)
    return ops.diff(body.config)
  })
}
