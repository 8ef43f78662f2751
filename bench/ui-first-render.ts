/**
 * Time to first render of the web console against a switchyard with 50
 * routes: the real `switchyard serve` (dist/cli.js) with two local backends
 * and some traffic, and Debian's Chromium (playwright-core) loading /ui/.
 *
 * Per load, from the navigation's start (performance.timeOrigin):
 * - `overview`: the app has rendered the overview of all 50 routes with
 *   their weights (the `switchyard:overview-rendered` mark, set after the
 *   status arrived and the cards were rendered);
 * - `series`: the per-version rows of all 100 (route, version) series are on
 *   the page (the time series arrived too).
 * The first load is cold (empty browser cache); the others warm (the hashed
 * bundle comes from the cache, index.html and the API are asked again).
 *
 *   npm run bench:ui                       # 1 cold + 9 warm loads
 *   RUNS=20 npm run bench:ui
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { launchBrowser } from '../test/helpers/browser.js'

const ROUTES = 50
const RUNS = Number(process.env.RUNS ?? 10)
const CLI = join(process.cwd(), 'dist/cli.js')

async function backend (name: string): Promise<Server> {
  const s = createServer((_req, res) => { res.end(name) })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return s
}
const urlOf = (s: Server): string => `http://127.0.0.1:${(s.address() as AddressInfo).port}`

function start (configPath: string): Promise<{ stop: () => void, admin: string, proxy: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += String(d)
      const line = out.split('\n').find(l => l.includes('"switchyard started"'))
      if (line !== undefined) {
        const started = JSON.parse(line) as { admin: string, proxy: string }
        resolve({ stop: () => child.kill('SIGTERM'), admin: started.admin, proxy: started.proxy })
      }
    })
    child.once('exit', code => reject(new Error(`switchyard exited ${String(code)}: ${out}`)))
  })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const ms = (x: number): string => `${x.toFixed(0)} ms`

const stable = await backend('stable')
const canary = await backend('canary')
const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-ui-'))
const configPath = join(dir, 'switchyard.yaml')
await writeFile(configPath, stringify({
  listen: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  log: { level: 'info' },
  backends: { stable: { version: '1.0', targets: [urlOf(stable)] }, canary: { version: '1.1', targets: [urlOf(canary)] } },
  routes: Array.from({ length: ROUTES }, (_, i) => ({
    name: `route-${i}`,
    match: { path: { prefix: `/r${i}/` } },
    rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }],
    split: { stable: 90, canary: 10 },
    ...(i % 2 === 0 ? { sticky: { cookie: 'sy_id' } } : {})
  }))
}))
const sy = await start(configPath)
const browser = await launchBrowser()
try {
  // A request on every route, then a sample (every 5 s): every series has points.
  for (let i = 0; i < ROUTES; i++) await (await fetch(`${sy.proxy}/r${i}/`)).text()
  await new Promise(resolve => setTimeout(resolve, 6000))

  const overview: number[] = []
  const series: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const { page } = await browser.open()
    if (run === 0) {
      const cdp = await browser.context.newCDPSession(page)
      await cdp.send('Network.clearBrowserCache')
    }
    await page.goto(`${sy.admin}/ui/`)
    await page.locator('section[data-route] tr[data-backend]').nth(2 * ROUTES - 1).waitFor({ timeout: 60_000 })
    const seriesAt = await page.evaluate('performance.now()') as number
    const mark = await page.evaluate("performance.getEntriesByName('switchyard:overview-rendered')[0]?.startTime ?? -1") as number
    // Where the time goes: the document and the bundle loaded, then the status answered.
    const dcl = await page.evaluate("performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? -1") as number
    const statusAt = await page.evaluate("performance.getEntriesByType('resource').find(e => e.name.endsWith('/admin/status'))?.responseEnd ?? -1") as number
    overview.push(mark)
    series.push(seriesAt)
    console.log(`load ${run + 1}${run === 0 ? ' (cold)' : ''}: bundle loaded ${ms(dcl)}, status answered ${ms(statusAt)}, overview ${ms(mark)}, all series ${ms(seriesAt)}`)
    await page.close()
  }
  const warmO = overview.slice(1)
  const warmS = series.slice(1)
  console.log(`\n${ROUTES} routes, ${2 * ROUTES} series; Chromium ${browser.context.browser()?.version() ?? ''}`)
  console.log(`cold: overview ${ms(overview[0] as number)}, all series ${ms(series[0] as number)}`)
  if (warmO.length > 0) {
    console.log(`warm (${warmO.length} loads): overview median ${ms(median(warmO))} (min ${ms(Math.min(...warmO))}, max ${ms(Math.max(...warmO))}); ` +
      `all series median ${ms(median(warmS))} (min ${ms(Math.min(...warmS))}, max ${ms(Math.max(...warmS))})`)
  }
} finally {
  await browser.close()
  sy.stop()
  stable.close()
  canary.close()
  await rm(dir, { recursive: true, force: true })
}
