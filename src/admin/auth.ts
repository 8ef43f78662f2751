/**
 * Who may change routing. The token comes from the environment
 * (SWITCHYARD_ADMIN_TOKEN, or SWITCHYARD_ADMIN_TOKEN_FILE for a mounted
 * Secret), never from the config file, which is often in git.
 * - Reads of /metrics, /healthz, /readyz never need it.
 * - With a token configured, every /admin request must carry it.
 * - Without one, mutations are allowed only when the admin listener is bound
 *   to loopback (only local processes can reach it); on any other address
 *   they are disabled.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SwitchyardError } from '../errors.js'

export interface AdminAuth {
  readonly token: string | undefined
  readonly loopback: boolean
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host)
}

export function tokenFromEnv (env: NodeJS.ProcessEnv = process.env): string | undefined {
  const direct = env.SWITCHYARD_ADMIN_TOKEN
  if (direct !== undefined && direct.trim() !== '') return direct.trim()
  const file = env.SWITCHYARD_ADMIN_TOKEN_FILE
  if (file !== undefined && file !== '') {
    const t = readFileSync(file, 'utf8').trim()
    if (t !== '') return t
  }
  return undefined
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

function bearer (req: FastifyRequest): string | undefined {
  const h = req.headers.authorization
  if (h === undefined) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1]
}

function checkToken (auth: AdminAuth, req: FastifyRequest, reply: FastifyReply): void {
  const given = bearer(req)
  // Compare digests so the comparison takes the same time whatever the length.
  if (given === undefined || !timingSafeEqual(digest(given), digest(auth.token as string))) {
    void reply.header('www-authenticate', 'Bearer realm="switchyard-admin"')
    throw new SwitchyardError('SY_ERR_ADMIN_UNAUTHORIZED', 'send Authorization: Bearer <token> (the token in SWITCHYARD_ADMIN_TOKEN of the switchyard process)')
  }
}

/** preHandler for reads under /admin. */
export function requireRead (auth: AdminAuth) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (auth.token !== undefined) checkToken(auth, req, reply)
  }
}

/** preHandler for anything that changes routing. */
export function requireMutation (auth: AdminAuth) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (auth.token !== undefined) return checkToken(auth, req, reply)
    if (!auth.loopback) {
      throw new SwitchyardError('SY_ERR_ADMIN_MUTATIONS_DISABLED',
        'changes through the admin API are disabled: the admin listener is not on loopback and no token is configured (set SWITCHYARD_ADMIN_TOKEN or SWITCHYARD_ADMIN_TOKEN_FILE)')
    }
  }
}
