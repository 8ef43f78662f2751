/** `switchyard validate FILE`: like `nginx -t`. */
import { buildFromFile } from '../routing/build.js'
import { formatProblem } from '../errors.js'
import type { RoutingTable } from '../routing/types.js'
import { output } from './output.js'

export function summarise (table: RoutingTable): string {
  const routes = table.routes.map(r => r.name).join(', ')
  const backends = table.backends.map(b => `${b.name}@${b.version}×${b.targets.length}`).join(', ')
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`
  return `${n(table.routes.length, 'route')} (${routes}), ${n(table.backends.length, 'backend')} (${backends}), sha256 ${table.sha256.slice(0, 12)}`
}

export async function validateCommand (file: string, opts: { json?: boolean }): Promise<number> {
  const built = await buildFromFile(file)
  if (opts.json === true) {
    const out = built.ok
      ? { ok: true, file, sha256: built.table.sha256, routes: built.table.routes.map(r => r.name), backends: built.table.backends.map(b => b.name) }
      : { ok: false, file, problems: built.problems }
    output().out(JSON.stringify(out, null, 2) + '\n')
    return built.ok ? 0 : 1
  }
  if (built.ok) {
    output().out(`${file}: ok — ${summarise(built.table)}\n`)
    return 0
  }
  for (const p of built.problems) output().err(formatProblem(p, file) + '\n')
  output().err(`${file}: invalid — ${built.problems.length} problem${built.problems.length === 1 ? '' : 's'}\n`)
  return 1
}
