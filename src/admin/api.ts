/**
 * The admin API under /admin: read the running config, its status and
 * history; change it (whole config, weights, promote, rollback, undo); ask
 * why a request goes where it goes, and how much traffic a change would move.
 *
 * Every change is validated in full, written to the config file atomically
 * and applied as a new revision, all inside LiveConfig.exclusive() so that
 * the If-Match check, the write and the swap cannot interleave with a reload
 * or another change. Reads carry the revision as an ETag; writes honour
 * If-Match and answer 412 when the config changed in between (RFC 9110).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { stringify as toYaml } from 'yaml'
import { buildFromText } from '../routing/build.js'
import { promoteBackend, setRouteWeights } from '../config/edit.js'
import { summariseChange } from '../config/summary.js'
import { AdminError, formatProblem, type ConfigProblem } from '../errors.js'
import { explain, syntheticView } from '../routing/explain.js'
import { trafficDiff } from '../routing/traffic-diff.js'
import type { RoutingTable } from '../routing/types.js'
import type { ConfigOrigin } from '../proxy/config-store.js'
import type { LiveConfig, ReloadOutcome } from '../control/live-config.js'
import { requireMutation, requireRead, type AdminAuth } from './auth.js'
import { statusBody } from './status.js'
import * as validators from '../config/generated/admin-validators.js'
import type { CompiledValidator } from '../config/validate.js'
import type { ConfigBodyT, DiffBodyT, ExplainBodyT, PromoteBodyT, UndoBodyT, WeightsBodyT } from './schemas.js'

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']

/** A request body checked by its build-time compiled schema; the first problem is a 400. */
function bodyOf<T> (validate: CompiledValidator<T>, body: unknown): T {
  if (validate(body)) return body
  const e = validate.errors?.[0]
  throw new AdminError('SY_ERR_ADMIN_BAD_REQUEST', `body${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`, 400)
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

/** RFC 9110 §13.1.1: `*` or a list of entity tags; weak tags compare weakly here. */
function ifMatchHolds (header: string | undefined, revision: number): boolean {
  if (header === undefined) return true
  const want = etagOf(revision)
  return header.split(',').map(s => s.trim().replace(/^W\//, '')).some(tag => tag === '*' || tag === want)
}

function originOf (req: FastifyRequest): ConfigOrigin {
  return req.headers['x-switchyard-client'] === 'cli' ? 'cli' : 'api'
}

/** A config in a request body: YAML/JSON text, or an already parsed JSON object. */
function configText (body: unknown, asYaml: boolean): string {
  if (typeof body === 'string') return body
  return asYaml ? toYaml(body) : JSON.stringify(body, null, 2) + '\n'
}

function invalid (problems: readonly ConfigProblem[]): AdminError {
  const parseOnly = problems.every(p => p.code === 'SY_ERR_CONFIG_PARSE')
  return new AdminError('SY_ERR_CONFIG_INVALID', `the config is invalid: ${problems.map(p => formatProblem(p)).join('; ')}`,
    parseOnly ? 400 : 422, { problems })
}

function candidateTable (body: unknown): RoutingTable {
  const built = buildFromText(configText(body, true))
  if (!built.ok) throw invalid(built.problems)
  return built.table
}

interface RouteParams { route: string }

export interface AdminApiOptions {
  readonly live: LiveConfig
  readonly auth: AdminAuth
}

export function registerAdminApi (app: FastifyInstance, opts: AdminApiOptions): void {
  const { live } = opts
  const read = requireRead(opts.auth)
  const mutate = requireMutation(opts.auth)
  const fileIsYaml = !/\.json$/i.test(live.file)

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => { done(null, body) })

  const current = (reply: FastifyReply) => {
    const active = live.store.current
    void reply.header('etag', etagOf(active.revision))
    return active
  }

  /**
   * Runs a change: If-Match checked against the revision in force, then the
   * new text (from `edit`) validated, written and applied as one step.
   */
  async function change (req: FastifyRequest, reply: FastifyReply, edit: (text: string) => { text: string, prefix?: string }): Promise<unknown> {
    const outcome = await live.exclusive(async (): Promise<ReloadOutcome> => {
      const active = live.store.current
      if (!ifMatchHolds(req.headers['if-match'], active.revision)) {
        throw new AdminError('SY_ERR_ADMIN_PRECONDITION',
          `the config is at revision ${active.revision}, not the one you read (If-Match ${req.headers['if-match'] ?? ''}): someone else changed it; read it again`, 412,
          { revision: active.revision })
      }
      const next = edit(active.text)
      return await live.writeAndApply(next.text, originOf(req), next.prefix)
    })
    if (outcome.result === 'failure') throw invalid(outcome.problems)
    const active = current(reply)
    return {
      revision: active.revision,
      sha256: active.table.sha256,
      changed: outcome.result === 'success',
      summary: outcome.result === 'success' ? outcome.summary : 'no change: the result equals the running config'
    }
  }

  app.get('/admin/status', { preHandler: read }, async (_req, reply) => {
    current(reply)
    return statusBody(live)
  })

  app.get('/admin/config', { preHandler: read }, async (req, reply) => {
    const active = current(reply)
    const accept = req.headers.accept ?? ''
    if (YAML_TYPES.some(t => accept.includes(t))) return await reply.type('application/yaml').send(active.text)
    return active.table.config
  })

  app.put('/admin/config', { preHandler: mutate }, async (req, reply) => {
    const body = bodyOf(v.config, req.body)
    return await change(req, reply, () => ({ text: configText(body, fileIsYaml) }))
  })

  app.put<{ Params: RouteParams }>('/admin/routes/:route/weights', { preHandler: mutate }, async (req, reply) => {
    const { weights } = bodyOf(v.weights, req.body)
    return await change(req, reply, text => setRouteWeights(text, req.params.route, weights))
  })

  app.post<{ Params: RouteParams }>('/admin/routes/:route/promote', { preHandler: mutate }, async (req, reply) => {
    const { backend } = bodyOf(v.promote, req.body)
    return await change(req, reply, text => ({ ...promoteBackend(text, req.params.route, backend), prefix: `promote ${backend}: ` }))
  })

  app.post('/admin/rollback', { preHandler: mutate }, async (req, reply) =>
    await change(req, reply, () => {
      const now = live.store.current.revision
      const previous = live.history.list().filter(e => e.revision < now).at(-1)
      if (previous === undefined) throw new AdminError('SY_ERR_ADMIN_NO_PREVIOUS', `revision ${now} is the oldest in the history; nothing to roll back to`, 409)
      return { text: previous.config, prefix: `rollback to revision ${previous.revision}: ` }
    }))

  app.post('/admin/undo', { preHandler: mutate }, async (req, reply) => {
    const { toRevision } = bodyOf(v.undo, req.body)
    return await change(req, reply, () => {
      const entry = live.history.get(toRevision)
      if (entry === undefined) {
        throw new AdminError('SY_ERR_ADMIN_UNKNOWN_REVISION', `revision ${toRevision} is not in the history (kept: ${live.history.list().map(e => e.revision).join(', ')})`, 404)
      }
      return { text: entry.config, prefix: `undo to revision ${entry.revision}: ` }
    })
  })

  app.get('/admin/history', { preHandler: read }, async (_req, reply) => {
    const active = current(reply)
    return {
      revision: active.revision,
      entries: live.history.list().map(({ config: _config, ...e }) => ({ ...e, current: e.revision === active.revision }))
    }
  })

  app.get<{ Params: { revision: string } }>('/admin/history/:revision', { preHandler: read }, async (req, reply) => {
    current(reply)
    if (!/^[1-9][0-9]{0,9}$/.test(req.params.revision)) throw new AdminError('SY_ERR_ADMIN_BAD_REQUEST', 'params/revision must be a revision number', 400)
    const entry = live.history.get(Number(req.params.revision))
    if (entry === undefined) throw new AdminError('SY_ERR_ADMIN_UNKNOWN_REVISION', `revision ${req.params.revision} is not in the history`, 404)
    return entry
  })

  app.post('/admin/explain', { preHandler: read }, async (req, reply) => {
    const body = bodyOf(v.explain, req.body)
    const active = current(reply)
    const table = body.config === undefined ? active.table : candidateTable(body.config)
    return { revision: body.config === undefined ? active.revision : null, ...explain(table, syntheticView(body.request)) }
  })

  app.post('/admin/diff', { preHandler: read }, async (req, reply) => {
    const body = bodyOf(v.diff, req.body)
    const active = current(reply)
    const candidate = candidateTable(body.config)
    return { revision: active.revision, summary: summariseChange(active.table.config, candidate.config), ...trafficDiff(active.table, candidate) }
  })
}
