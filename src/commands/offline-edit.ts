/**
 * The CLI's offline mode (`--file`): the operations service over a config
 * FILE instead of a running switchyard — the same edits, checks and
 * summaries as the admin API. The file is a switchyard config (a file
 * source, whose history is read from the state directory but never
 * written), or a Kubernetes ConfigMap manifest embedding one (GitOps
 * repositories: an in-memory source, and the manifest is written back
 * with every other document, comment and layout kept).
 */
import { readFile } from 'node:fs/promises'
import { pino } from 'pino'
import { isMap, isScalar, parseAllDocuments, type Document } from 'yaml'
import { LiveConfig } from '../control/live-config.js'
import { Operations, type ChangeResult } from '../control/operations.js'
import type { ConfigSource } from '../control/source.js'
import { MemorySource } from '../control/sources/memory.js'
import { fleetSide } from '../control/sources/fleet-source.js'
import { parseStoreUrl } from '../fleet/store-url.js'
import { openSource } from '../control/sources/open.js'
import { ConfigError, formatProblem, SwitchyardError } from '../errors.js'
import { atomicWrite } from '../util/atomic-write.js'
import { CliError } from './admin-client.js'

interface Embedded { readonly docs: readonly Document[], readonly doc: Document, readonly key: string }

/** A ConfigMap document holding a switchyard config under `data.<key>`. */
function findEmbedded (docs: readonly Document[], key: string | undefined): Embedded | undefined {
  for (const doc of docs) {
    if (doc.get('kind') !== 'ConfigMap') continue
    const data = doc.get('data')
    if (!isMap(data)) continue
    for (const item of data.items) {
      const k = isScalar(item.key) ? String(item.key.value) : ''
      if (key === undefined ? /\.(ya?ml|json)$/.test(k) : k === key) return { docs, doc, key: k }
    }
  }
  return undefined
}

export interface OfflineOptions {
  readonly file: string
  /** With a ConfigMap manifest: the data key holding the config. */
  readonly key?: string
  /** Where `serve` keeps the history of this file (rollback and undo read it). */
  readonly stateDir?: string
}

export interface OfflineResult { readonly file: string, readonly summary: string, readonly configMapKey?: string }

/** Runs `change` on the service over `opts.file`; a coded error becomes one line (or the list of config problems). */
export async function changeOffline (opts: OfflineOptions, change: (ops: Operations) => Promise<ChangeResult>): Promise<OfflineResult> {
  const { file } = opts
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const docs = parseAllDocuments(text)
  const embedded = findEmbedded(Array.isArray(docs) ? docs : [], opts.key)
  const source: ConfigSource = embedded === undefined
    ? await openSource(file, { stateDir: opts.stateDir ?? process.env.SWITCHYARD_STATE_DIR, readOnlyHistory: true })
    : new MemorySource(file, String(embedded.doc.getIn(['data', embedded.key])))
  const result = await changeSource(source, file, `fix it first (see \`switchyard validate ${file}\`)`, change)
  if (embedded === undefined) return { file, summary: result.summary }
  if (result.changed) {
    embedded.doc.setIn(['data', embedded.key], (source as MemorySource).text)
    await atomicWrite(file, embedded.docs.map(d => d.toString()).join(''))
  }
  return { file, summary: result.summary, configMapKey: embedded.key }
}

/** Runs `change` on the service over `source`; a coded error becomes one line (or the list of config problems). */
async function changeSource (source: ConfigSource, where: string, fix: string, change: (ops: Operations) => Promise<ChangeResult>): Promise<ChangeResult> {
  try {
    const live = new LiveConfig(source, undefined, pino({ level: 'silent' }))
    await live.start(await LiveConfig.load(source).catch((err: unknown) => {
      if (!(err instanceof ConfigError)) throw err
      throw new CliError(`${where} is invalid; ${fix}:\n${err.problems.map(p => '  ' + formatProblem(p)).join('\n')}`, 1, err.code)
    }))
    return await change(new Operations(live))
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(`the edited config would be invalid; ${where} is unchanged:\n${err.problems.map(p => '  ' + formatProblem(p)).join('\n')}`, 1, err.code)
    }
    if (err instanceof SwitchyardError) throw new CliError(`${err.message} [${err.code}]`, err.code === 'SY_ERR_ADMIN_PRECONDITION' ? 3 : 1, err.code)
    throw err
  }
}

/**
 * `--store URL`: the operations service over the fleet's routing store
 * itself, with no replica running. The write is conditioned on the revision
 * read (a replica's edit in between is a conflict, exit 3), recorded in the
 * store's history, and every replica applies it from its watch.
 */
export async function changeInStore (url: string, change: (ops: Operations) => Promise<ChangeResult>): Promise<OfflineResult> {
  const source = await (async () => {
    parseStoreUrl(url)
    return await openSource(url, {})
  })().catch((err: unknown) => {
    throw new CliError((err as Error).message, 1)
  })
  try {
    const result = await changeSource(source, source.location, 'fix it with `switchyard serve --store` on a valid config, or kubectl/etcdctl', change)
    return { file: source.location, summary: `revision ${result.revision}: ${result.summary}` }
  } finally {
    await fleetSide(source)?.store.close()
  }
}
