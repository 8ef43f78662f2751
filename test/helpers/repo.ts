/** Paths into this repository, for tests that read its deploy files. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDockerfile, type Stage } from './dockerfile.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export const repoPath = (...parts: string[]): string => join(ROOT, ...parts)

export function dockerStages (): Stage[] {
  return parseDockerfile(readFileSync(repoPath('Dockerfile'), 'utf8'))
}

/** The image's final stage: what actually runs. */
export function runtimeStage (): Stage {
  const stage = dockerStages().at(-1)
  if (stage === undefined) throw new Error('Dockerfile has no FROM')
  return stage
}
