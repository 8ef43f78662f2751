/**
 * Watches a config file for every way it changes in practice:
 * - written in place;
 * - replaced by rename (editors, `sed -i`, atomic writers);
 * - a Kubernetes ConfigMap volume, where the file is a symlink through
 *   `..data`, a symlink the kubelet swaps atomically to a new directory.
 * It watches the file's directory (one level, symlinks not followed) with
 * chokidar, so all three show up as events there; bursts are debounced and
 * the caller compares content hashes, so spurious events cost one read.
 */
import { basename, dirname } from 'node:path'
import chokidar, { type FSWatcher } from 'chokidar'

export interface ConfigWatcher {
  close (): Promise<void>
}

export function watchConfig (file: string, onChange: () => void, debounceMs = 50): Promise<ConfigWatcher> {
  const name = basename(file)
  // Only the file itself and the kubelet's `..data`/`..<timestamp>` entries
  // matter; the revision history, editors' temp files and an access log may
  // share the directory.
  const relevant = (path: string): boolean => {
    const b = basename(path)
    return b === name || b.startsWith('..') || path === dirname(file)
  }
  const watcher: FSWatcher = chokidar.watch(dirname(file), {
    depth: 0,
    ignoreInitial: true,
    followSymlinks: false,
    atomic: false,
    // Polling fallback is chokidar's business; native events are fast enough here.
    usePolling: false,
    // Not even watched: an access log written next to the config would
    // otherwise cost a stat per write (chokidar watches each file it keeps).
    ignored: (path: string) => !relevant(path)
  })
  let timer: NodeJS.Timeout | undefined
  watcher.on('all', (_event, path) => {
    if (!relevant(path)) return
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => { timer = undefined; onChange() }, debounceMs)
  })
  return new Promise((resolve, reject) => {
    watcher.once('ready', () => resolve({
      async close () {
        if (timer !== undefined) clearTimeout(timer)
        await watcher.close()
      }
    }))
    watcher.once('error', reject)
  })
}
