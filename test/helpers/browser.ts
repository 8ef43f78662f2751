/**
 * A real Chromium (Debian's `chromium`, driven by playwright-core) for the
 * console's browser tests and its first-render benchmark. Every page records
 * the requests it makes, the CSP violations and the script errors it meets,
 * so a test can assert that nothing left for another host.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { repoPath } from './repo.js'

export const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium'

/** No network of its own: no QUIC, no background updates, sync or first-run pages. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Where the screenshots go (git-ignored; CI keeps the folder as an artifact). */
export const SCREENSHOTS = repoPath('test-artifacts/ui')

export interface Browser {
  readonly context: BrowserContext
  /** A new tab that records what it does. */
  open (): Promise<RecordedPage>
  close (): Promise<void>
}

export interface RecordedPage {
  readonly page: Page
  /** Every URL the page requested, in order. */
  readonly requests: string[]
  /** Console messages about a Content-Security-Policy violation. */
  readonly cspViolations: string[]
  /** Uncaught exceptions in the page's scripts. */
  readonly errors: string[]
  screenshot (name: string): Promise<string>
}

export async function launchBrowser (): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'switchyard-chromium-'))
  // A fresh profile per run (playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 }
  })
  await mkdir(SCREENSHOTS, { recursive: true })
  return {
    context,
    async open () {
      const page = await context.newPage()
      const rec: RecordedPage = {
        page,
        requests: [],
        cspViolations: [],
        errors: [],
        async screenshot (name) {
          const path = join(SCREENSHOTS, `${name}.png`)
          await page.screenshot({ path, fullPage: true })
          return path
        }
      }
      page.on('request', r => { rec.requests.push(r.url()) })
      page.on('console', m => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) rec.cspViolations.push(m.text()) })
      page.on('pageerror', e => { rec.errors.push(String(e)) })
      return rec
    },
    async close () {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

/** The requests of a page that went anywhere but `origin` (data: URLs never leave the page). */
export function foreignRequests (rec: RecordedPage, origin: string): string[] {
  return rec.requests.filter(u => !u.startsWith('data:') && new URL(u).origin !== origin)
}

/** A new tab, closed when the test ends. */
export async function openTab (t: Test, browser: Browser): Promise<RecordedPage> {
  const rec = await browser.open()
  t.teardown(async () => { await rec.page.close() })
  return rec
}

/** What every browser test ends with: the tab asked nothing of another host, broke no CSP rule, threw nothing. */
export function assertClean (t: Test, rec: RecordedPage, origin: string): void {
  t.ok(rec.requests.length > 0, `the page made ${rec.requests.length} requests`)
  t.same(foreignRequests(rec, origin), [], 'every request went to the admin listener')
  t.same(rec.cspViolations, [], 'nothing broke the Content-Security-Policy')
  t.same(rec.errors, [], 'no script error')
}
