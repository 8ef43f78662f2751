/**
 * The listener's certificates: PEM file pairs loaded into secure contexts,
 * chosen by SNI, and loaded again when their files change. cert-manager
 * rotates a Secret by swapping the kubelet's `..data` symlink in the mounted
 * directory, and editors replace files by rename, so the directories are
 * watched (not the files). A rotation only affects new handshakes:
 * established connections keep the context they negotiated. A half-written
 * or mismatched pair is refused and the certificates in use stay.
 */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { createSecureContext, type SecureContext } from 'node:tls'
import chokidar, { type FSWatcher } from 'chokidar'
import { SwitchyardError } from '../errors.js'
import type { ListenerTls } from '../routing/types.js'

interface Loaded {
  readonly context: SecureContext
  /** DNS names of the certificate (subjectAltName, else the CN), lowercased; `*.example.com` for wildcards. */
  readonly names: readonly string[]
  /** PEM text of the pair, for setSecureContext(). */
  readonly cert: string
  readonly key: string
}

export interface CertificateEvents {
  /** The files changed and the new pairs were loaded. */
  reloaded: []
  /** The files changed but could not be loaded; the previous certificates stay. */
  failed: [error: Error]
}

function dnsNames (pem: string): string[] {
  const x509 = new X509Certificate(pem)
  const san = x509.subjectAltName
  if (san !== undefined) {
    return san.split(',').map(s => s.trim()).filter(s => s.startsWith('DNS:')).map(s => s.slice(4).toLowerCase())
  }
  const cn = /CN=([^,\n]+)/.exec(x509.subject)
  return cn === null ? [] : [(cn[1] as string).toLowerCase()]
}

function load (pair: { cert: string, key: string }): Loaded {
  let cert: string
  let key: string
  try {
    cert = readFileSync(pair.cert, 'utf8')
    key = readFileSync(pair.key, 'utf8')
  } catch (err) {
    throw new SwitchyardError('SY_ERR_TLS_CERTIFICATE', `cannot read ${pair.cert} / ${pair.key}: ${(err as Error).message}`)
  }
  try {
    // createSecureContext checks that the key matches the certificate.
    return { context: createSecureContext({ cert, key }), names: dnsNames(cert), cert, key }
  } catch (err) {
    throw new SwitchyardError('SY_ERR_TLS_CERTIFICATE', `${pair.cert} / ${pair.key}: ${(err as Error).message}`)
  }
}

/** Whether `name` (lowercased SNI) is covered by a certificate name (a wildcard covers one label). */
function covers (pattern: string, name: string): boolean {
  if (pattern === name) return true
  if (!pattern.startsWith('*.')) return false
  const dot = name.indexOf('.')
  return dot > 0 && name.slice(dot + 1) === pattern.slice(2)
}

export class CertificateStore extends EventEmitter<CertificateEvents> {
  #loaded: readonly Loaded[]
  #watcher: FSWatcher | undefined
  #timer: NodeJS.Timeout | undefined

  /** Loads every pair now; throws SY_ERR_TLS_CERTIFICATE when one cannot be loaded. */
  constructor (readonly settings: ListenerTls) {
    super()
    this.#loaded = settings.certificates.map(load)
  }

  /** The default pair (the first), as options for tls.createServer() and setSecureContext(). */
  get defaultPair (): { cert: string, key: string } {
    const first = this.#loaded[0] as Loaded
    return { cert: first.cert, key: first.key }
  }

  /** The context for an SNI name: the first certificate that covers it, else the default. */
  contextFor (servername: string): SecureContext {
    const name = servername.toLowerCase()
    for (const l of this.#loaded) {
      if (l.names.some(p => covers(p, name))) return l.context
    }
    return (this.#loaded[0] as Loaded).context
  }

  /** tls.Server's SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername))
  }

  /** Loads every pair again; keeps the current ones when any fails. */
  reload (): boolean {
    try {
      this.#loaded = this.settings.certificates.map(load)
    } catch (err) {
      this.emit('failed', err as Error)
      return false
    }
    this.emit('reloaded')
    return true
  }

  /** Watches the files' directories; a change (debounced) reloads. */
  async watch (debounceMs = 100): Promise<void> {
    const files = this.settings.certificates.flatMap(c => [c.cert, c.key])
    const names = new Set(files.map(f => basename(f)))
    const dirs = [...new Set(files.map(f => dirname(f)))]
    const relevant = (path: string): boolean => names.has(basename(path)) || basename(path).startsWith('..') || dirs.includes(path)
    const watcher = this.#watcher = chokidar.watch(dirs, { depth: 0, ignoreInitial: true, followSymlinks: false, atomic: false, ignored: (path: string) => !relevant(path) })
    watcher.on('all', (_event, path) => {
      if (!relevant(path)) return
      if (this.#timer !== undefined) clearTimeout(this.#timer)
      this.#timer = setTimeout(() => { this.#timer = undefined; this.reload() }, debounceMs)
    })
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve)
      watcher.once('error', reject)
    })
  }

  async close (): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    await this.#watcher?.close()
  }
}
