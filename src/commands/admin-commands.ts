/**
 * CLI commands against a running switchyard (through the admin API), and
 * their offline twins that edit a config file in place. Each prints a short
 * human summary, or the API's JSON with --json.
 */
import { readFile } from 'node:fs/promises'
import { candidateTable, diffOf, explainIn, type ChangeOptions, type ChangeResult, type Operations } from '../control/operations.js'
import { ConfigError, formatProblem } from '../errors.js'
import type { RoutingTable } from '../routing/types.js'
import { AdminClient, CliError, type AdminReply } from './admin-client.js'
import { changeInStore, changeOffline } from './offline-edit.js'
import { output } from './output.js'
import { formatDiff, formatExplain, formatHistory, formatStatus, type ChangeReply, type DiffReply, type ExplainReply, type HistoryReply, type StatusReply } from './format.js'

export interface CommonOptions { admin?: string, json?: boolean }
export interface EditOptions extends CommonOptions {
  /** Edit this config file (or ConfigMap manifest) in place instead of a running switchyard. */
  file?: string
  key?: string
  stateDir?: string
  /** Overwrite a config file that no longer holds the running revision. */
  force?: boolean
  /** Edit the fleet's routing store (etcd://…, kubernetes://…) directly, with no replica running. */
  store?: string
}

const out = (s: string): void => { output().out(s.endsWith('\n') ? s : s + '\n') }

function printChange (reply: ChangeReply, opts: CommonOptions): void {
  if (opts.json === true) return out(JSON.stringify(reply, null, 2))
  out(`revision ${reply.revision}: ${reply.summary}`)
}

/** Read-modify-write against the API: read the revision, then change it only if nobody else did. */
async function guarded<T> (client: AdminClient, change: (etag: string | undefined) => Promise<T>): Promise<T> {
  const status = await client.call<StatusReply>('GET', '/admin/status')
  return await change(status.etag)
}

/** `?force=true` when asked to overwrite a config file that no longer holds the running revision. */
const forced = (opts: EditOptions): string => opts.force === true ? '?force=true' : ''

/**
 * A change: with --file, the operations service runs here on that file;
 * otherwise the running switchyard's service through its admin API.
 */
async function change (opts: EditOptions, offline: (ops: Operations) => Promise<ChangeResult>, online: (client: AdminClient, etag: string | undefined) => Promise<AdminReply<ChangeReply>>): Promise<void> {
  if (opts.store !== undefined) {
    const result = await changeInStore(opts.store, offline)
    if (opts.json === true) return out(JSON.stringify(result, null, 2))
    return out(`${result.file}: ${result.summary}`)
  }
  if (opts.file !== undefined) {
    const result = await changeOffline({ file: opts.file, key: opts.key, stateDir: opts.stateDir }, offline)
    if (opts.json === true) return out(JSON.stringify(result, null, 2))
    return out(`${result.file}${result.configMapKey === undefined ? '' : ` (ConfigMap data ${result.configMapKey})`}: ${result.summary}`)
  }
  const client = new AdminClient(opts.admin)
  const reply = await guarded(client, async etag => await online(client, etag))
  printChange(reply.body, opts)
}

const CLI: ChangeOptions = { origin: 'cli' }

/** PUT a route's default-split weights, as a revision written only if the config is still at `etag`. */
export async function putWeights (client: AdminClient, route: string, weights: Readonly<Record<string, number>>, etag: string | undefined, query = ''): Promise<AdminReply<ChangeReply>> {
  return await client.call<ChangeReply>('PUT', `/admin/routes/${encodeURIComponent(route)}/weights${query}`, { weights }, etag)
}

export async function setWeightCommand (route: string, weights: Readonly<Record<string, number>>, opts: EditOptions): Promise<void> {
  await change(opts,
    async ops => await ops.setWeights(route, weights, CLI),
    async (client, etag) => await putWeights(client, route, weights, etag, forced(opts)))
}

export async function promoteCommand (route: string, backend: string, opts: EditOptions): Promise<void> {
  await change(opts,
    async ops => await ops.promote(route, backend, CLI),
    async (client, etag) => await client.call<ChangeReply>('POST', `/admin/routes/${encodeURIComponent(route)}/promote${forced(opts)}`, { backend }, etag))
}

export async function rollbackCommand (opts: EditOptions): Promise<void> {
  await change(opts,
    async ops => await ops.rollback(CLI),
    async (client, etag) => await client.call<ChangeReply>('POST', `/admin/rollback${forced(opts)}`, undefined, etag))
}

export async function undoCommand (toRevision: number, opts: EditOptions): Promise<void> {
  await change(opts,
    async ops => await ops.undo(toRevision, CLI),
    async (client, etag) => await client.call<ChangeReply>('POST', `/admin/undo${forced(opts)}`, { toRevision }, etag))
}

export async function statusCommand (opts: CommonOptions): Promise<void> {
  const reply = await new AdminClient(opts.admin).call<StatusReply>('GET', '/admin/status')
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatStatus(reply.body))
}

export async function historyCommand (opts: CommonOptions): Promise<void> {
  const reply = await new AdminClient(opts.admin).call<HistoryReply>('GET', '/admin/history')
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatHistory(reply.body))
}

/** A config file's text; a file that cannot be read is a one-line error. */
async function readText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** A config file compiled here (explain and diff on files need no running switchyard). */
async function tableOf (file: string): Promise<RoutingTable> {
  try {
    return candidateTable(await readText(file))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    throw new CliError(`${file} is invalid:\n${err.problems.map(p => '  ' + formatProblem(p, file)).join('\n')}`, 1, err.code)
  }
}

export interface DiffOptions extends CommonOptions {
  /** Compare with this config file instead of the running revision (offline). */
  against?: string
}

export async function diffCommand (file: string, opts: DiffOptions): Promise<void> {
  if (opts.against !== undefined) {
    const diff = diffOf(await tableOf(opts.against), await tableOf(file), null)
    return out(opts.json === true ? JSON.stringify(diff, null, 2) : formatDiff(diff, opts.against))
  }
  const reply = await new AdminClient(opts.admin).call<DiffReply>('POST', '/admin/diff', { config: await readText(file) })
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatDiff(reply.body))
}

export interface ExplainOptions extends CommonOptions {
  method?: string
  host?: string
  header?: Record<string, string>
  cookie?: Record<string, string>
  /** Explain against this config file (offline) instead of the running revision. */
  config?: string
}

export async function explainCommand (path: string | undefined, opts: ExplainOptions): Promise<void> {
  const request = {
    method: opts.method ?? 'GET',
    path: path ?? '/',
    headers: opts.header ?? {},
    cookies: opts.cookie ?? {},
    ...(opts.host === undefined ? {} : { host: opts.host })
  }
  const explained = opts.config !== undefined
    ? explainIn(await tableOf(opts.config), request, null)
    : (await new AdminClient(opts.admin).call<ExplainReply>('POST', '/admin/explain', { request })).body
  out(opts.json === true ? JSON.stringify(explained, null, 2) : formatExplain(explained))
}
