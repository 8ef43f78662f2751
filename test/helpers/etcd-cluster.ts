/**
 * A real 3-member etcd cluster on 127.0.0.1 for the fleet tests: Debian's
 * `etcd` binary (package etcd-server, installed by .ci/run), free ports,
 * data dirs on tmpfs when there is one (etcd fsyncs every write; on tmpfs that
 * costs nothing), each member in its own process group. Members can be
 * killed, stopped and restarted on the same data dir and ports. Everything is
 * removed on close() and, should a test die first, on process exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ETCD = process.env.ETCD ?? 'etcd'

/** Why etcd cannot run here, or undefined when it can. */
export function etcdMissing (): string | undefined {
  const r = spawnSync(ETCD, ['--version'], { encoding: 'utf8' })
  if (r.error !== undefined) return `${ETCD}: ${r.error.message} (apt-get install etcd-server)`
  return undefined
}

export interface EtcdMember {
  readonly name: string
  readonly clientUrl: string
  /** `127.0.0.1:PORT`, as a store URL lists hosts. */
  readonly hostPort: string
  readonly running: boolean
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[]
  /** Every member's `host:port`, comma-separated (the host part of an etcd:// store URL). */
  readonly hosts: string
  /** SIGKILL: no goodbye to the peers, like a crashed node. */
  kill (index: number): Promise<void>
  /** SIGTERM, then wait for the process to exit. */
  stop (index: number): Promise<void>
  /** Start stopped members again on their data dirs and ports, and wait until they serve (all together: one alone has no quorum). */
  restart (...indices: number[]): Promise<void>
  /** Resolves when every running member answers /health with true. */
  healthy (timeoutMs?: number): Promise<void>
  close (): Promise<void>
}

interface Slot {
  readonly name: string
  readonly clientPort: number
  readonly peerPort: number
  readonly dataDir: string
  proc: ChildProcess | undefined
  stderr: string
}

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
let exitHookInstalled = false

// A test that throws before close() must not leave etcd processes or data
// behind: 'exit' handlers run synchronously, so kill and rmSync only.
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const p of live) killGroup(p, 'SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
}

function killGroup (p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return
  try {
    process.kill(-p.pid, signal)
  } catch {
    // already gone
  }
}

/** Ports that were free a moment ago: all held open together, so no two are the same. */
async function freePorts (n: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer()
      servers.push(s)
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve))
    }
    return servers.map(s => {
      const a = s.address()
      if (a === null || typeof a === 'string') throw new Error('no port')
      return a.port
    })
  } finally {
    await Promise.all(servers.map(s => new Promise<void>(resolve => s.close(() => resolve()))))
  }
}

function exited (p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => p.once('exit', () => resolve()))
}

async function serves (clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
    const body = await res.json() as { health?: string }
    return body.health === 'true'
  } catch {
    return false
  }
}

export async function startEtcdCluster (size = 3): Promise<EtcdCluster> {
  installExitHook()
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  const root = mkdtempSync(join(base, 'switchyard-etcd-'))
  dirs.add(root)
  const ports = await freePorts(size * 2)
  const slots: Slot[] = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    clientPort: ports[2 * i] ?? 0,
    peerPort: ports[2 * i + 1] ?? 0,
    dataDir: join(root, `m${i}`),
    proc: undefined,
    stderr: ''
  }))
  const initialCluster = slots.map(s => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',')
  const clientUrl = (s: Slot): string => `http://127.0.0.1:${s.clientPort}`

  const launch = (s: Slot): void => {
    const proc = spawn(ETCD, [
      '--name', s.name,
      '--data-dir', s.dataDir,
      '--listen-client-urls', clientUrl(s),
      '--advertise-client-urls', clientUrl(s),
      '--listen-peer-urls', `http://127.0.0.1:${s.peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${s.peerPort}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `switchyard-test-${process.pid}`,
      // Loopback round trips are sub-millisecond: a short election timeout
      // lets the tests see a new raft leader quickly after a kill.
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--logger', 'zap',
      '--log-level', 'error'
    ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    s.stderr = ''
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => { s.stderr = (s.stderr + chunk).slice(-4000) })
    live.add(proc)
    proc.once('exit', () => live.delete(proc))
    s.proc = proc
  }

  const healthyOne = async (s: Slot, deadline: number): Promise<void> => {
    while (!(await serves(clientUrl(s)))) {
      if (s.proc === undefined || s.proc.exitCode !== null) throw new Error(`etcd ${s.name} exited: ${s.stderr}`)
      if (Date.now() > deadline) throw new Error(`etcd ${s.name} not healthy in time: ${s.stderr}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  const slot = (i: number): Slot => {
    const s = slots[i]
    if (s === undefined) throw new Error(`no etcd member ${i}`)
    return s
  }

  const halt = async (i: number, signal: NodeJS.Signals): Promise<void> => {
    const s = slot(i)
    if (s.proc === undefined) return
    killGroup(s.proc, signal)
    await exited(s.proc)
    s.proc = undefined
  }

  const cluster: EtcdCluster = {
    members: slots.map(s => ({
      name: s.name,
      clientUrl: clientUrl(s),
      hostPort: `127.0.0.1:${s.clientPort}`,
      get running () { return s.proc !== undefined }
    })),
    hosts: slots.map(s => `127.0.0.1:${s.clientPort}`).join(','),
    kill: i => halt(i, 'SIGKILL'),
    stop: i => halt(i, 'SIGTERM'),
    restart: async (...indices) => {
      const started = indices.map(slot)
      for (const s of started) {
        if (s.proc !== undefined) throw new Error(`etcd ${s.name} is running`)
        launch(s)
      }
      const deadline = Date.now() + 20_000
      await Promise.all(started.map(s => healthyOne(s, deadline)))
    },
    healthy: async (timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs
      await Promise.all(slots.filter(s => s.proc !== undefined).map(s => healthyOne(s, deadline)))
    },
    close: async () => {
      await Promise.all(slots.map((_, i) => halt(i, 'SIGKILL')))
      rmSync(root, { recursive: true, force: true })
      dirs.delete(root)
    }
  }

  for (const s of slots) launch(s)
  try {
    await cluster.healthy()
  } catch (err) {
    await cluster.close()
    throw err
  }
  return cluster
}
