/**
 * The admin listener (fastify): health endpoints, and the admin API and
 * metrics registered on the same instance (their own modules). Kept off the
 * data path's port so that probes and scrapes never compete with traffic
 * rules, and so it can bind to loopback while the proxy listens publicly.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { SwitchyardError, type ErrorCode } from '../errors.js'
import { registerAdminApi, type AdminApiOptions } from './api.js'
import { httpError } from './http-errors.js'

export interface Readiness {
  /** Config loaded and the proxy listener up, and not draining. */
  ready (): boolean
  /** Why not ready, for the 503 body. */
  reason (): string
}

export interface AdminOptions {
  readonly logger: Logger
  readonly readiness: Readiness
  /** The /admin API; left out, only health endpoints are served. */
  readonly api?: AdminApiOptions
  /** Request bodies above this many bytes get 413 (default 1 MiB). */
  readonly bodyLimit?: number
}

/** fastify's own error codes → ours, so every admin error has one shape. */
const FASTIFY_CODES: Readonly<Record<string, [ErrorCode, number]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['SY_ERR_ADMIN_TOO_LARGE', 413],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['SY_ERR_ADMIN_MEDIA_TYPE', 415],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['SY_ERR_ADMIN_BAD_REQUEST', 400],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['SY_ERR_ADMIN_BAD_REQUEST', 400],
  FST_ERR_CTP_INVALID_JSON_BODY: ['SY_ERR_ADMIN_BAD_REQUEST', 400]
}

export function buildAdminApp (opts: AdminOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'admin' }) as FastifyBaseLogger,
    // Admin requests are rare and operator-driven: no per-request log lines.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are checked by build-time compiled schemas (admin/api.ts), strictly:
    // no coercion, no silent removal of unknown fields, no schema compiler loaded.
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // …so fastify's own schema compilers (ajv, fast-json-stringify) are never needed: not loading them saves memory.
    schemaController: {
      compilersFactory: {
        buildValidator: () => () => { throw new Error('admin routes declare no schema; bodies are checked by generated validators') },
        buildSerializer: () => () => (data: unknown) => JSON.stringify(data)
      }
    }
  })

  app.setErrorHandler(async (err: FastifyError | SwitchyardError, req, reply) => {
    if (err instanceof SwitchyardError) {
      const answer = httpError(err)
      return await reply.code(answer.status).send(answer.body)
    }
    if (err.validation !== undefined) {
      return await reply.code(400).send({ error: 'SY_ERR_ADMIN_BAD_REQUEST', message: `${err.validationContext ?? 'request'}${err.message.replace(/^(body|params|querystring)/, '')}` })
    }
    const mapped = FASTIFY_CODES[err.code]
    if (mapped !== undefined) return await reply.code(mapped[1]).send({ error: mapped[0], message: err.message })
    if (err instanceof SyntaxError) return await reply.code(400).send({ error: 'SY_ERR_ADMIN_BAD_REQUEST', message: `malformed body: ${err.message}` })
    req.log.error({ err }, 'admin request failed')
    return await reply.code(500).send({ error: 'SY_ERR_INTERNAL' satisfies ErrorCode, message: 'internal error; see the switchyard log' })
  })
  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send({ error: 'SY_ERR_ADMIN_NOT_FOUND', message: `no admin endpoint ${req.method} ${req.url.split('?')[0] ?? ''}` })
  })

  app.get('/healthz', async (_req, reply) => {
    await reply.type('text/plain').send('ok\n')
  })
  app.get('/readyz', async (_req, reply) => {
    if (opts.readiness.ready()) return await reply.type('text/plain').send('ready\n')
    await reply.code(503).type('text/plain').send(`not ready: ${opts.readiness.reason()}\n`)
  })
  if (opts.api !== undefined) registerAdminApi(app, opts.api)
  return app
}
