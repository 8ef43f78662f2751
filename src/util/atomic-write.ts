/**
 * Atomic file replacement: write a temp file in the same directory, fsync it,
 * rename it over the target, fsync the directory. A crash at any point leaves
 * either the old file or the new one, never half of either.
 * A symlinked target (a Kubernetes ConfigMap layout) is resolved first, so the
 * link survives and its target is what gets replaced.
 */
import { open, realpath, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export async function atomicWrite (file: string, data: string): Promise<void> {
  let target = file
  try {
    target = await realpath(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const dir = dirname(target)
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o644)
  try {
    await fh.writeFile(data, 'utf8')
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await rename(tmp, target)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  // Persist the rename itself (the directory entry).
  const dh = await open(dir, 'r').catch(() => undefined)
  if (dh !== undefined) {
    await dh.sync().catch(() => {})
    await dh.close()
  }
}
