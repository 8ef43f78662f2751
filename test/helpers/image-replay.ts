/**
 * Replays the image's runtime stage on this machine, without Docker: every
 * path of the image maps into a temporary root; COPY copies from the repo
 * (the build stage's /app is the repo itself, after `npm run build`), RUN
 * runs its `npm ci`, ENV and WORKDIR are kept. Any other instruction fails
 * the replay, so it cannot silently drift from the Dockerfile.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { cp } from 'node:fs/promises'
import { basename, join, posix, relative } from 'node:path'
import { copyPaths, type Stage } from './dockerfile.js'
import { ROOT } from './repo.js'

export interface Replayed {
  /** Maps an absolute path of the image into the replay's root. */
  at (imagePath: string): string
  readonly workdir: string
  readonly env: Readonly<Record<string, string>>
}

/** Commands a RUN may hold; the replay knows how to perform them. */
const RUNNABLE: Record<string, 'run' | 'skip'> = {
  'npm ci': 'run',
  // Empties the image's own cache; here it would empty the developer's.
  'npm cache clean': 'skip'
}

async function sh (command: string, cwd: string): Promise<void> {
  // --prefer-offline: the lockfile pins every version and hash; reuse the cache.
  const child = spawn(command + ' --prefer-offline', { cwd, shell: true, stdio: ['ignore', 'ignore', 'pipe'], })
  let stderr = ''
  child.stderr.on('data', d => { stderr += String(d) })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`${command} exited ${String(code)}: ${stderr}`)
}

export async function replayRuntimeStage (stage: Stage, root: string, buildStage: string, buildWorkdir: string): Promise<Replayed> {
  const at = (p: string): string => join(root, p)
  let workdir = '/'
  const env: Record<string, string> = {}
  for (const ins of stage.instructions) {
    switch (ins.op) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, ins.args)
        break
      case 'ENV':
        for (const pair of ins.args.split(/\s+/)) {
          const [k = '', v = ''] = pair.split('=')
          env[k] = v
        }
        break
      case 'COPY': {
        const { sources, dest } = copyPaths(ins)
        const into = sources.length > 1 || dest.endsWith('/')
        for (const s of sources) {
          if (ins.flags.from !== undefined && ins.flags.from !== buildStage) throw new Error(`COPY --from=${ins.flags.from}: unknown stage`)
          const from = ins.flags.from === buildStage ? join(ROOT, relative(buildWorkdir, s)) : join(ROOT, s)
          const to = at(posix.resolve(workdir, dest))
          await cp(from, into ? join(to, basename(s)) : to, { recursive: true })
        }
        break
      }
      case 'RUN':
        for (const command of ins.args.split('&&').map(c => c.trim())) {
          const known = Object.keys(RUNNABLE).find(k => command.startsWith(k + ' '))
          if (known === undefined) throw new Error(`the replay cannot run "${command}"; teach test/helpers/image-replay.ts or keep it out of the runtime stage`)
          if (RUNNABLE[known] === 'run') await sh(command, at(workdir))
        }
        break
      case 'USER': case 'EXPOSE': case 'ENTRYPOINT': case 'CMD': case 'LABEL': case 'STOPSIGNAL': case 'HEALTHCHECK':
        break
      default:
        throw new Error(`the replay does not know ${ins.op}; teach test/helpers/image-replay.ts`)
    }
  }
  return { at, workdir, env }
}
