/**
 * How the admin API answers a coded error: the HTTP status of each code
 * (the one place that knows), and the JSON body `{error, message, …details}`.
 */
import { formatProblem, SwitchyardError, type ConfigProblem, type ErrorCode } from '../errors.js'

const STATUS: Readonly<Partial<Record<ErrorCode, number>>> = {
  SY_ERR_CONFIG_INVALID: 422,
  SY_ERR_ADMIN_BAD_REQUEST: 400,
  SY_ERR_ADMIN_TOO_LARGE: 413,
  SY_ERR_ADMIN_MEDIA_TYPE: 415,
  SY_ERR_ADMIN_UNAUTHORIZED: 401,
  SY_ERR_ADMIN_MUTATIONS_DISABLED: 403,
  SY_ERR_ADMIN_PRECONDITION: 412,
  SY_ERR_ADMIN_READONLY: 409,
  SY_ERR_ADMIN_FILE_CHANGED: 409,
  SY_ERR_ADMIN_UNKNOWN_ROUTE: 404,
  SY_ERR_ADMIN_UNKNOWN_REVISION: 404,
  SY_ERR_ADMIN_NO_PREVIOUS: 409,
  SY_ERR_ADMIN_NOT_FOUND: 404,
  // The edit did not happen; the replica keeps serving its last revision and a retry may succeed.
  SY_ERR_STORE_UNAVAILABLE: 503
}

export interface HttpError {
  readonly status: number
  readonly body: Readonly<Record<string, unknown>>
}

/** The answer to a coded error. A config that does not even parse is a malformed request (400), an invalid one 422. */
export function httpError (err: SwitchyardError): HttpError {
  const problems = err.details?.problems as readonly ConfigProblem[] | undefined
  if (err.code === 'SY_ERR_CONFIG_INVALID' && problems !== undefined) {
    const parseOnly = problems.every(p => p.code === 'SY_ERR_CONFIG_PARSE')
    const message = `the config is invalid: ${problems.map(p => formatProblem(p)).join('; ')}`
    return { status: parseOnly ? 400 : 422, body: { error: err.code, message, problems } }
  }
  return { status: STATUS[err.code] ?? 500, body: { error: err.code, message: err.message, ...err.details } }
}
