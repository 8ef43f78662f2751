/**
 * Starts a real switchyard (proxy + admin listeners on 127.0.0.1, port 0)
 * on a config written to a temporary directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { Agent, request, type Dispatcher } from 'undici'
import { pino, type Logger } from 'pino'
import { createSwitchyard, type RolloutOptions, type Switchyard } from '../../src/app/switchyard.js'
import type { Entropy } from '../../src/routing/types.js'

export interface Running {
  readonly sy: Switchyard
  readonly dir: string
  readonly configPath: string
  readonly client: Agent
  get (path: string, headers?: Record<string, string>): Promise<Reply>
  send (opts: { path: string, method?: Dispatcher.HttpMethod, headers?: Record<string, string>, body?: string | Buffer }): Promise<Reply>
  close (): Promise<void>
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json<T = unknown> (): T
}

/** Fills in listener ports 0 on loopback and a quiet log, unless the config sets them. */
export function withTestDefaults (config: Record<string, unknown>): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    ...config
  }
}

export interface StartWithOptions {
  entropy?: Entropy
  adminToken?: string
  stateDir?: string
  /** Directory for the config file (default: a new temporary one). */
  dir?: string
  /** The main logger (default: silent). */
  logger?: Logger
  /** How rollouts run (tests: an injected clock, looks driven by the test). */
  rollouts?: RolloutOptions
}

export async function startWith (config: Record<string, unknown> | string, opts: StartWithOptions = {}): Promise<Running> {
  const dir = opts.dir ?? await mkdtemp(join(tmpdir(), 'switchyard-test-'))
  const configPath = join(dir, 'switchyard.yaml')
  await writeFile(configPath, typeof config === 'string' ? config : stringify(withTestDefaults(config)))
  const sy = await createSwitchyard({ configPath, logger: opts.logger ?? pino({ level: 'silent' }), entropy: opts.entropy, adminToken: opts.adminToken, stateDir: opts.stateDir, rollouts: opts.rollouts })
  const client = new Agent({ keepAliveTimeout: 10_000, connections: 16 })
  const send: Running['send'] = async (o) => {
    const res = await request(sy.proxyUrl + o.path, { method: o.method ?? 'GET', headers: o.headers, body: o.body, dispatcher: client })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, text, json: <T>() => JSON.parse(text) as T }
  }
  return {
    sy,
    dir,
    configPath,
    client,
    send,
    get: async (path, headers) => await send({ path, headers }),
    close: async () => {
      await client.close()
      await sy.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export async function writeConfig (path: string, config: Record<string, unknown>): Promise<void> {
  await writeFile(path, stringify(withTestDefaults(config)))
}
