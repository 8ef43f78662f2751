/** Settings shared by the peer processes, from the environment run.sh sets. */

export function requiredPort (name = 'PORT'): number {
  const port = Number(process.env[name])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${name} is required (a TCP port)`)
  return port
}

export function requiredUpstream (): string {
  const upstream = process.env.UPSTREAM
  if (upstream === undefined || upstream === '') throw new Error('UPSTREAM is required, e.g. http://127.0.0.1:18080')
  return upstream
}

/** Bench peers listen on loopback only. */
export const HOST = '127.0.0.1'
