/**
 * Opens a config source from its spec. A `scheme://…` spec is served by
 * the folder of that name next to this file (`./etcd/index.js` for
 * `etcd://…`), which exports `createSource`; anything else is a file path.
 * A new kind of source is therefore one new folder: nothing here changes.
 */
import { existsSync } from 'node:fs'
import { ConfigError } from '../../errors.js'
import type { ConfigSource } from '../source.js'
import { createSource as createFileSource } from './file/index.js'

export interface SourceOptions {
  /** Where a source that keeps its history locally keeps it (a file source: default the file's directory). */
  readonly stateDir?: string
  /** Read the history but never write it (the CLI's offline edits). */
  readonly readOnlyHistory?: boolean
  /**
   * A fleet source (etcd://, kubernetes://): the replica's local config file,
   * whose process settings (listen, admin, log…) it keeps and whose routing
   * seeds an empty store.
   */
  readonly localConfig?: string
}

interface SourceModule {
  createSource (location: string, opts: SourceOptions): ConfigSource
}

export async function openSource (spec: string, opts: SourceOptions): Promise<ConfigSource> {
  const scheme = /^([a-z][a-z0-9]*):\/\//.exec(spec)?.[1]
  if (scheme === undefined) return createFileSource(spec, opts)
  if (!existsSync(new URL(`./${scheme}/`, import.meta.url))) {
    throw new ConfigError([{ code: 'SY_ERR_CONFIG_READ', path: '', message: `no config source for ${scheme}:// (${spec})` }])
  }
  const mod = await import(`./${scheme}/index.js`) as SourceModule
  return mod.createSource(scheme === 'file' ? decodeURIComponent(new URL(spec).pathname) : spec, opts)
}
