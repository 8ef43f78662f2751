/**
 * CLI commands against a running switchyard (through the admin API), and
 * their offline twins that edit a config file in place. Each prints a short
 * human summary, or the API's JSON with --json.
 */
import { readFile } from 'node:fs/promises'
import { promoteBackend, setRouteWeights } from '../config/edit.js'
import { AdminClient, CliError, type AdminReply } from './admin-client.js'
import { editFileOffline } from './offline-edit.js'
import { output } from './output.js'
import { formatDiff, formatExplain, formatHistory, formatStatus, type ChangeReply, type DiffReply, type ExplainReply, type HistoryReply, type StatusReply } from './format.js'

export interface CommonOptions { admin?: string, json?: boolean }
export interface EditOptions extends CommonOptions { file?: string, key?: string }

const out = (s: string): void => { output().out(s.endsWith('\n') ? s : s + '\n') }

function printChange (reply: ChangeReply, opts: CommonOptions): void {
  if (opts.json === true) return out(JSON.stringify(reply, null, 2))
  out(`revision ${reply.revision}: ${reply.summary}`)
}

/** `BACKEND=N` pairs → weights. */
export function parseWeights (pairs: readonly string[]): Record<string, number> {
  const weights: Record<string, number> = {}
  for (const p of pairs) {
    const m = /^([^=\s]+)=(\d+)$/.exec(p)
    if (m === null) throw new CliError(`expected BACKEND=WEIGHT (a non-negative integer), got ${JSON.stringify(p)}`)
    weights[m[1] as string] = Number(m[2])
  }
  if (Object.keys(weights).length === 0) throw new CliError('give at least one BACKEND=WEIGHT')
  return weights
}

/** Read-modify-write against the API: read the revision, then change it only if nobody else did. */
async function guarded<T> (client: AdminClient, change: (etag: string | undefined) => Promise<T>): Promise<T> {
  const status = await client.call<StatusReply>('GET', '/admin/status')
  return await change(status.etag)
}

async function offline (opts: EditOptions, edit: (text: string) => string): Promise<void> {
  const result = await editFileOffline(opts.file as string, opts.key, edit)
  if (opts.json === true) return out(JSON.stringify(result, null, 2))
  out(`${result.file}${result.configMapKey === undefined ? '' : ` (ConfigMap data ${result.configMapKey})`}: ${result.summary}`)
}

/** PUT a route's default-split weights, as a revision written only if the config is still at `etag`. */
export async function putWeights (client: AdminClient, route: string, weights: Readonly<Record<string, number>>, etag: string | undefined): Promise<AdminReply<ChangeReply>> {
  return await client.call<ChangeReply>('PUT', `/admin/routes/${encodeURIComponent(route)}/weights`, { weights }, etag)
}

export async function setWeightCommand (route: string, pairs: string[], opts: EditOptions): Promise<void> {
  const weights = parseWeights(pairs)
  if (opts.file !== undefined) return await offline(opts, text => setRouteWeights(text, route, weights).text)
  const client = new AdminClient(opts.admin)
  const reply = await guarded(client, async etag => await putWeights(client, route, weights, etag))
  printChange(reply.body, opts)
}

export async function promoteCommand (route: string, backend: string, opts: EditOptions): Promise<void> {
  if (opts.file !== undefined) return await offline(opts, text => promoteBackend(text, route, backend).text)
  const client = new AdminClient(opts.admin)
  const reply = await guarded(client, async etag =>
    await client.call<ChangeReply>('POST', `/admin/routes/${encodeURIComponent(route)}/promote`, { backend }, etag))
  printChange(reply.body, opts)
}

export async function rollbackCommand (opts: CommonOptions): Promise<void> {
  const client = new AdminClient(opts.admin)
  const reply = await guarded(client, async etag => await client.call<ChangeReply>('POST', '/admin/rollback', undefined, etag))
  printChange(reply.body, opts)
}

export async function undoCommand (toRevision: number, opts: CommonOptions): Promise<void> {
  if (!Number.isInteger(toRevision) || toRevision < 1) throw new CliError('--to-revision needs a revision number (see `switchyard history`)')
  const client = new AdminClient(opts.admin)
  const reply = await guarded(client, async etag => await client.call<ChangeReply>('POST', '/admin/undo', { toRevision }, etag))
  printChange(reply.body, opts)
}

export async function statusCommand (opts: CommonOptions): Promise<void> {
  const reply = await new AdminClient(opts.admin).call<StatusReply>('GET', '/admin/status')
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatStatus(reply.body))
}

export async function historyCommand (opts: CommonOptions): Promise<void> {
  const reply = await new AdminClient(opts.admin).call<HistoryReply>('GET', '/admin/history')
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatHistory(reply.body))
}

export async function diffCommand (file: string, opts: CommonOptions): Promise<void> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const reply = await new AdminClient(opts.admin).call<DiffReply>('POST', '/admin/diff', { config: text })
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatDiff(reply.body))
}

export interface ExplainOptions extends CommonOptions {
  method?: string
  host?: string
  header?: string[]
  cookie?: string[]
  config?: string
}

export async function explainCommand (path: string | undefined, opts: ExplainOptions): Promise<void> {
  const headers: Record<string, string> = {}
  for (const h of opts.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new CliError(`expected -H 'Name: value', got ${JSON.stringify(h)}`)
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim()
  }
  const cookies: Record<string, string> = {}
  for (const c of opts.cookie ?? []) {
    const i = c.indexOf('=')
    if (i <= 0) throw new CliError(`expected --cookie name=value, got ${JSON.stringify(c)}`)
    cookies[c.slice(0, i).trim()] = c.slice(i + 1).trim()
  }
  const request = {
    method: opts.method ?? 'GET',
    path: path ?? '/',
    headers,
    cookies,
    ...(opts.host === undefined ? {} : { host: opts.host })
  }
  const body = opts.config === undefined ? { request } : { request, config: await readFile(opts.config, 'utf8') }
  const reply = await new AdminClient(opts.admin).call<ExplainReply>('POST', '/admin/explain', body)
  out(opts.json === true ? JSON.stringify(reply.body, null, 2) : formatExplain(reply.body))
}
