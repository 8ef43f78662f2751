/**
 * The CLI's offline mode: the same edits as the admin API, applied to a
 * config FILE in place — a switchyard config, or a Kubernetes ConfigMap
 * manifest that embeds one (GitOps repositories). The result is validated
 * before the file is replaced (atomically); comments and layout survive.
 */
import { readFile } from 'node:fs/promises'
import { isMap, isScalar, parseAllDocuments, type Document } from 'yaml'
import { buildFromText } from '../routing/build.js'
import { summariseChange } from '../config/summary.js'
import { formatProblem } from '../errors.js'
import { atomicWrite } from '../util/atomic-write.js'
import { CliError } from './admin-client.js'

interface Embedded { doc: Document, key: string }

/** A ConfigMap document holding a switchyard config under `data.<key>`. */
function findEmbedded (docs: Document[], key: string | undefined): Embedded | undefined {
  for (const doc of docs) {
    if (doc.get('kind') !== 'ConfigMap') continue
    const data = doc.get('data')
    if (!isMap(data)) continue
    for (const item of data.items) {
      const k = isScalar(item.key) ? String(item.key.value) : ''
      if (key === undefined ? /\.(ya?ml|json)$/.test(k) : k === key) return { doc, key: k }
    }
  }
  return undefined
}

export interface OfflineResult { readonly file: string, readonly summary: string, readonly configMapKey?: string }

export async function editFileOffline (file: string, key: string | undefined, edit: (text: string) => string): Promise<OfflineResult> {
  let original: string
  try {
    original = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const docs = parseAllDocuments(original)
  const list = Array.isArray(docs) ? docs : []
  const embedded = findEmbedded(list, key)
  const before = embedded === undefined ? original : String(embedded.doc.getIn(['data', embedded.key]))
  const after = edit(before)
  const builtBefore = buildFromText(before)
  const builtAfter = buildFromText(after)
  if (!builtAfter.ok) {
    throw new CliError(`the edited config would be invalid; ${file} is unchanged:\n${builtAfter.problems.map(p => '  ' + formatProblem(p)).join('\n')}`)
  }
  let output = after
  if (embedded !== undefined) {
    embedded.doc.setIn(['data', embedded.key], after)
    output = list.map(d => d.toString()).join('')
  }
  await atomicWrite(file, output)
  const summary = summariseChange(builtBefore.ok ? builtBefore.table.config : undefined, builtAfter.table.config)
  return embedded === undefined ? { file, summary } : { file, summary, configMapKey: embedded.key }
}
