/**
 * The web console at /ui on the admin listener: a static single-page app
 * (built by `npm run build` into dist/ui/, see ui/build.mjs) that talks only
 * to the documented admin API, plus the in-memory time series it charts.
 *
 * The files are a handful of bytes read once, on the first /ui request, and
 * served from memory: no file system access per request (so no path to
 * traverse), no static-file plugin, nothing loaded by a switchyard whose
 * console nobody opens. The proxy's data path never loads any of it.
 *
 * The pages are public (they hold no data); the data comes from /admin with
 * the admin API's own rules, so off loopback the page asks for the token.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SwitchyardError } from '../errors.js'
import { TimeseriesSampler, type CellSource, type SamplerOptions } from '../observability/timeseries.js'
import type { AdminAuth } from './auth.js'
import { closeUnusedConnections } from './idle-sockets.js'
import { registerTimeseries } from './timeseries.js'

/**
 * Scripts, styles and data only from this origin; no inline script or style
 * (the app sets styles through the CSSOM, which CSP allows); no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json'
}

interface Asset {
  readonly type: string
  readonly body: Buffer
  /** Present when compressing pays (text files). */
  readonly gzip: Buffer | undefined
  readonly etag: string
  readonly cacheControl: string
}

/** dist/admin/console.js → dist/ui/; under tap, src/admin/console.ts → dist/ui/. */
const DEFAULT_DIRS = [new URL('../ui/', import.meta.url), new URL('../../dist/ui/', import.meta.url)].map(u => fileURLToPath(u))

/**
 * Reads the built files. Names with a content hash (`app-3F2A….js`) never
 * change and are cached for a year; index.html names the current ones and
 * is revalidated on every load.
 */
async function loadAssets (dirs: readonly string[]): Promise<Map<string, Asset>> {
  for (const dir of dirs) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      continue
    }
    if (!names.includes('index.html')) continue
    const assets = new Map<string, Asset>()
    for (const name of names) {
      const type = TYPES[extname(name)]
      if (type === undefined) continue
      const body = await readFile(dir + name)
      const gzip = type.startsWith('text/') || type === 'application/json' ? gzipSync(body, { level: 9 }) : undefined
      assets.set(name, {
        type,
        body,
        gzip: gzip !== undefined && gzip.length < body.length ? gzip : undefined,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        cacheControl: /-[A-Z0-9]{8}\.\w+$/.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache'
      })
    }
    return assets
  }
  return new Map()
}

export interface ConsoleOptions {
  readonly auth: AdminAuth
  /** The request cells the time series sample (RequestMetrics). */
  readonly cells: CellSource
  /** Where the built console is; default dist/ui/ of this installation. */
  readonly dir?: string
  readonly sampler?: SamplerOptions
}

/** Registers /ui and GET /admin/timeseries, and starts the sampler (stopped when the app closes). */
export function registerConsole (app: FastifyInstance, opts: ConsoleOptions): TimeseriesSampler {
  const sampler = new TimeseriesSampler(opts.cells, opts.sampler)
  sampler.start()
  app.addHook('onClose', async () => { sampler.stop() })
  closeUnusedConnections(app)
  registerTimeseries(app, sampler, opts.auth)

  let assets: Promise<Map<string, Asset>> | undefined
  const dirs = opts.dir === undefined ? DEFAULT_DIRS : [opts.dir.endsWith('/') ? opts.dir : opts.dir + '/']

  async function serve (req: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
    const found = await (assets ??= loadAssets(dirs))
    const asset = found.get(name)
    if (asset === undefined) {
      if (found.size === 0) assets = undefined // not built yet: look again next time
      throw new SwitchyardError('SY_ERR_ADMIN_NOT_FOUND', found.size === 0
        ? 'the web console is not built in this installation (run `npm run build`, which builds dist/ui/)'
        : `no console file ${name}`)
    }
    void reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', asset.cacheControl)
      .header('etag', asset.etag)
      .header('vary', 'accept-encoding')
      .type(asset.type)
    if (req.headers['if-none-match'] === asset.etag) return await reply.code(304).send()
    if (asset.gzip !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      return await reply.header('content-encoding', 'gzip').send(asset.gzip)
    }
    return await reply.send(asset.body)
  }

  // The app routes by the URL's #fragment, so every page is /ui/ itself.
  app.get('/ui', async (req, reply) => await serve(req, reply, 'index.html'))
  app.get('/ui/', async (req, reply) => await serve(req, reply, 'index.html'))
  app.get<{ Params: { file: string } }>('/ui/:file', async (req, reply) => await serve(req, reply, req.params.file))
  return sampler
}
