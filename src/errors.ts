/**
 * Coded errors. Every error switchyard reports to an operator carries a
 * stable `code` (documented in README.md, checked by test/errors.test.ts) so
 * scripts and tests match on codes, never on message text.
 *
 * These are domain errors: they say what went wrong, not how an adapter
 * answers it. The admin API maps a code to an HTTP status
 * (src/admin/http-errors.ts), the CLI to an exit code.
 */

export const ErrorCodes = {
  /** The config file could not be read (missing, permissions). */
  SY_ERR_CONFIG_READ: 'the config file could not be read',
  /** The config file is not valid YAML/JSON. */
  SY_ERR_CONFIG_PARSE: 'the config file does not parse as YAML or JSON',
  /** A field breaks the schema: wrong type, out of range, unknown field, missing field. */
  SY_ERR_CONFIG_SCHEMA: 'a field does not match the config schema',
  /** A rule, split or fallback names a backend that is not defined. */
  SY_ERR_CONFIG_UNKNOWN_BACKEND: 'a reference names a backend that is not defined',
  /** Two routes or two rules of one route share a name. */
  SY_ERR_CONFIG_DUPLICATE_NAME: 'a route or rule name is used twice',
  /** A split whose weights are all 0. */
  SY_ERR_CONFIG_ZERO_WEIGHTS: 'every weight of a split is 0',
  /** A rule or route has both `to` and `split`, or neither. */
  SY_ERR_CONFIG_TARGET: 'a rule or route needs exactly one of `to` and `split`',
  /** A regular expression does not compile. */
  SY_ERR_CONFIG_REGEX: 'a regular expression does not compile',
  /** A regular expression with nested quantifiers: exponential backtracking (ReDoS) on crafted input. */
  SY_ERR_CONFIG_REGEX_UNSAFE: 'a regular expression could take exponential time',
  /** A target URL is not an http(s) origin. */
  SY_ERR_CONFIG_TARGET_URL: 'a target is not an http:// or https:// origin',
  /** `sticky` names both or neither of `cookie` and `header`. */
  SY_ERR_CONFIG_STICKY: 'sticky needs exactly one of `cookie` and `header`',
  /** The same port is used by the proxy and the admin listener. */
  SY_ERR_CONFIG_PORT: 'the proxy and admin listeners use the same address',
  /** Backend fallbacks form a cycle. */
  SY_ERR_CONFIG_FALLBACK_CYCLE: 'backend fallbacks form a cycle',
  /** A header rule or the request-ID header names a hop-by-hop or framing header, names a header twice, or a `stripPrefix` can never apply. */
  SY_ERR_CONFIG_REWRITE: 'a header rule or path rewrite cannot work',
  /** A config sent to the admin API is invalid; `problems` lists every problem. */
  SY_ERR_CONFIG_INVALID: 'the config is invalid',
  /** A malformed admin request: bad JSON/YAML, wrong types, missing fields. */
  SY_ERR_ADMIN_BAD_REQUEST: 'the request is malformed',
  /** An admin request body over the size limit. */
  SY_ERR_ADMIN_TOO_LARGE: 'the request body is too large',
  /** An admin request body in a media type the endpoint does not take. */
  SY_ERR_ADMIN_MEDIA_TYPE: 'unsupported media type',
  /** No or wrong bearer token. */
  SY_ERR_ADMIN_UNAUTHORIZED: 'a valid bearer token is required',
  /** Mutations are off: the admin listener is not on loopback and no token is configured. */
  SY_ERR_ADMIN_MUTATIONS_DISABLED: 'mutations are disabled on this listener',
  /** If-Match did not match: someone else changed the config in between. */
  SY_ERR_ADMIN_PRECONDITION: 'the config changed since it was read',
  /** The config file cannot be written (a read-only ConfigMap mount). */
  SY_ERR_ADMIN_READONLY: 'the config file is read-only',
  /** The config file on disk is not the running revision (a hand edit that failed validation): an edit would overwrite it; `force` does. */
  SY_ERR_ADMIN_FILE_CHANGED: 'the config file differs from the running revision',
  /** No route with that name. */
  SY_ERR_ADMIN_UNKNOWN_ROUTE: 'no route with that name',
  /** No revision with that number in the history. */
  SY_ERR_ADMIN_UNKNOWN_REVISION: 'no revision with that number in the history',
  /** Rollback without an earlier revision in the history. */
  SY_ERR_ADMIN_NO_PREVIOUS: 'there is no earlier revision to roll back to',
  /** An unknown admin path. */
  SY_ERR_ADMIN_NOT_FOUND: 'no such admin endpoint',
  /** A rollout that cannot start: unknown backend, steps not increasing, a judge setting out of range. */
  SY_ERR_ROLLOUT_INVALID: 'the rollout is invalid',
  /** The route already has a rollout in progress or paused: one rollout per route. */
  SY_ERR_ROLLOUT_ACTIVE: 'the route already has an active rollout',
  /** No rollout for that route. */
  SY_ERR_ROLLOUT_NOT_FOUND: 'no rollout for that route',
  /** The rollout's phase does not allow that: resume one that is not paused, pause one that ended. */
  SY_ERR_ROLLOUT_PHASE: 'the rollout is not in a phase that allows this',
  /** Someone else changed the rollout between read and write (another command, another replica): read it again. */
  SY_ERR_ROLLOUT_CONFLICT: 'the rollout changed since it was read',
  /** A bug: the admin request failed unexpectedly (details in the log). */
  SY_ERR_INTERNAL: 'internal error',
  /** A `--store` URL that does not parse: scheme, hosts, prefix, namespace or ConfigMap name. */
  SY_ERR_STORE_URL: 'the store URL is invalid',
  /** A rollout's look on a fleet store: a live member's counters could not be read, so the fleet's sum would undercount. */
  SY_ERR_FLEET_COUNTERS: 'a member\'s counters could not be read, or no member is live',
  /** The routing store (etcd, the Kubernetes API) cannot be reached; replicas keep serving their last revision. */
  SY_ERR_STORE_UNAVAILABLE: 'the routing store cannot be reached',
  /** A `listen.tls` certificate or key file cannot be read, does not parse, or the key does not match the certificate (at start; a later bad rotation keeps the certificates in use). */
  SY_ERR_TLS_CERTIFICATE: 'a TLS certificate or key cannot be loaded',
  /** A backend's `tls.ca` bundle cannot be read. */
  SY_ERR_TLS_CA: 'a backend CA bundle cannot be read'
} as const

export type ErrorCode = keyof typeof ErrorCodes

/** An error with a code from the list above; `details` are machine-readable extras (e.g. `problems`, `revision`). */
export class SwitchyardError extends Error {
  constructor (readonly code: ErrorCode, message: string, readonly details?: Readonly<Record<string, unknown>>) {
    super(message)
    this.name = 'SwitchyardError'
  }
}

/** One problem in a config, with where it is. */
export interface ConfigProblem {
  readonly code: ErrorCode
  /** Dotted path into the config, e.g. `routes[1].rules[2].to`; '' for the whole file. */
  readonly path: string
  readonly message: string
  /** 1-based line and column in the source file, when known. */
  readonly line?: number
  readonly column?: number
}

/** Formats a problem as `file:line:col path: message [CODE]`. */
export function formatProblem (p: ConfigProblem, file?: string): string {
  let where = ''
  if (file !== undefined) where = file
  if (p.line !== undefined) where += `${where === '' ? '' : ':'}${p.line}:${p.column ?? 1}`
  const head = where === '' ? '' : `${where}: `
  const path = p.path === '' ? '' : `${p.path}: `
  return `${head}${path}${p.message} [${p.code}]`
}

/** Thrown when a config is rejected; carries every problem found. */
export class ConfigError extends SwitchyardError {
  readonly problems: readonly ConfigProblem[]
  readonly file: string | undefined

  constructor (problems: readonly ConfigProblem[], file?: string) {
    const first = problems[0]
    const summary = first === undefined ? 'invalid config' : formatProblem(first, file)
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''
    super('SY_ERR_CONFIG_INVALID', summary + more, { problems })
    this.name = 'ConfigError'
    this.problems = problems
    this.file = file
  }
}
