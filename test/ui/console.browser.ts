/**
 * The web console in a real Chromium against a real switchyard (in this
 * process, real listeners) with real backends and traffic:
 * - the overview shows the configured weights and counters that follow the
 *   traffic sent;
 * - explain in the page gives the answer `switchyard explain` gives;
 * - a weight set in the form is a revision `switchyard history` lists; undo
 *   in the page restores the previous weights; promote and roll back work;
 * - a change made with the CLI while the page is open makes the page's next
 *   change fail with a conflict naming the new revision, and the CLI's
 *   change stands;
 * - off loopback the page asks for the token, keeps it for the tab only,
 *   and the API refuses requests without it;
 * - no page requests anything from another host, nothing breaks the CSP.
 * Screenshots of every page go to test-artifacts/ui/. `npm run test:ui`.
 */
import t, { type Test } from 'tap'
import { networkInterfaces } from 'node:os'
import { request } from 'undici'
import { admin } from '../helpers/admin.js'
import { startBackends } from '../helpers/backends.js'
import { runCli } from '../helpers/cli.js'
import { assertClean, launchBrowser, openTab, type RecordedPage } from '../helpers/browser.js'
import { startWith, type Running } from '../helpers/switchyard.js'

interface StatusBody { revision: number, routes: Array<{ name: string, default: { to?: string, weights?: Record<string, number>, percent: Record<string, number> } }> }
interface HistoryBody { revision: number, entries: Array<{ revision: number, source: string, summary: string }> }

const { stable, canary } = await startBackends(t, 'stable', 'canary')

function config (adminHost: string): Record<string, unknown> {
  return {
    admin: { host: adminHost, port: 0 },
    backends: { stable: { version: '1.0', targets: [stable.url] }, canary: { version: '1.1', targets: [canary.url] } },
    routes: [
      { name: 'api', match: { path: { prefix: '/api' } }, to: 'stable' },
      {
        name: 'web',
        match: { path: { prefix: '/' } },
        rules: [{ name: 'beta', when: { headers: { 'x-canary': { exact: 'always' } } }, to: 'canary' }],
        split: { stable: 90, canary: 10 },
        sticky: { cookie: 'sy_id' }
      }
    ]
  }
}

const browser = await launchBrowser()
t.teardown(() => browser.close())

const open = async (t: Test): Promise<RecordedPage> => await openTab(t, browser)
const clean = assertClean

const weightsOf = async (A: string, route: string): Promise<Record<string, number> | undefined> =>
  (await admin<StatusBody>(A, 'GET', '/admin/status')).body.routes.find(r => r.name === route)?.default.weights

const history = async (A: string): Promise<HistoryBody> =>
  JSON.parse((await runCli(['history', '--json', '--admin', A])).stdout) as HistoryBody

t.test('on loopback', async t => {
  const sy: Running = await startWith(config('127.0.0.1'))
  t.teardown(() => sy.close())
  const A = sy.sy.adminUrl
  const origin = new URL(A).origin

  t.test('/ui is served with a strict CSP and cacheable hashed assets', async t => {
    const res = await request(`${A}/ui/`)
    const html = await res.body.text()
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    t.match(String(res.headers['content-security-policy']), /^default-src 'self'; script-src 'self'; style-src 'self';.*connect-src 'self'/)
    t.equal(res.headers['cache-control'], 'no-cache')
    const script = /src="(\/ui\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1]
    t.ok(script, 'index.html names the hashed bundle')
    const js = await request(A + String(script))
    await js.body.dump()
    t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
    t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable')
    const again = await request(A + String(script), { headers: { 'if-none-match': String(js.headers.etag) } })
    await again.body.dump()
    t.equal(again.statusCode, 304, 'a known ETag is not sent again')
    const gz = await request(A + String(script), { headers: { 'accept-encoding': 'gzip, br' } })
    const packed = Buffer.from(await gz.body.arrayBuffer())
    t.equal(gz.headers['content-encoding'], 'gzip')
    t.ok(packed.length < Number(js.headers['content-length']), `gzipped: ${packed.length} of ${String(js.headers['content-length'])} bytes`)
    t.equal((await admin(A, 'GET', '/ui/nothing.js')).status, 404)
  })

  t.test('overview: the configured weights, and counters that follow the traffic', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/`)
    const web = page.locator('section[data-route="web"]')
    t.equal(await web.locator('.legend li[data-backend="stable"] .pct').textContent(), '90 %')
    t.equal(await web.locator('.legend li[data-backend="canary"] .pct').textContent(), '10 %')
    t.equal(await page.locator('section[data-route="api"] .legend li[data-backend="stable"] .pct').textContent(), '100 %')

    // 120 new users: each lands by the sticky hash, as the proxy says in x-backend.
    const served = { stable: 0, canary: 0 }
    for (let i = 0; i < 120; i++) {
      const r = await sy.get(`/page/${i}`)
      served[r.headers['x-backend'] as 'stable' | 'canary']++
    }
    t.ok(served.stable > 0 && served.canary > 0, `both versions served (${JSON.stringify(served)})`)
    // The next sample (every 5 s) and the page's next poll bring the counts.
    for (const b of ['stable', 'canary'] as const) {
      await page.locator(`section[data-route="web"] tr[data-backend="${b}"] td[data-col="requests"]`, { hasText: new RegExp(`^${served[b]}$`) }).waitFor({ timeout: 30_000 })
    }
    t.equal(await web.locator('tr[data-backend="stable"] td[data-col="requests"]').textContent(), String(served.stable))
    t.equal(await web.locator('tr[data-backend="canary"] td[data-col="requests"]').textContent(), String(served.canary))
    t.match(await web.locator('tr[data-backend="stable"] td[data-col="rate"]').textContent(), /^[0-9.]+\/s$/)
    t.not(await web.locator('tr[data-backend="stable"] td[data-col="rate"]').textContent(), '0/s', 'the rate moved')
    t.equal(await web.locator('tr[data-backend="stable"] td[data-col="errors"]').textContent(), '0 %')
    t.not(await web.locator('tr[data-backend="stable"] td[data-col="sticky"]').textContent(), '0', 'new users were counted')
    await web.locator('.chart canvas').nth(3).waitFor({ timeout: 10_000 })
    t.equal(await web.locator('.chart canvas').count(), 4, 'the four time charts are drawn')
    await rec.screenshot('overview')
    clean(t, rec, origin)
  })

  t.test('route: match, rules, split, and explain answers as `switchyard explain` does', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/route/web`)
    await page.locator('ol.rule-list > li[data-rule="beta"]').waitFor({ timeout: 10_000 })
    t.equal(await page.locator('ol.rule-list > li').count(), 1)
    t.match(await page.locator('ol.rule-list li[data-rule="beta"]').textContent(), /beta when \{"headers":\{"x-canary":\{"exact":"always"\}\}\}/)
    const cases: Array<{ fill: Record<string, string>, cli: string[] }> = [
      { fill: { path: '/shop', headers: 'x-canary: always' }, cli: ['/shop', '-H', 'x-canary: always'] },
      { fill: { path: '/shop', cookies: 'sy_id=alice' }, cli: ['/shop', '--cookie', 'sy_id=alice'] },
      { fill: { path: '/api/v1' }, cli: ['/api/v1'] }
    ]
    for (const c of cases) {
      for (const name of ['path', 'headers', 'cookies']) await page.locator(`form.explain [name="${name}"]`).fill(c.fill[name] ?? '')
      await page.locator('form.explain button[type="submit"]').click()
      const cli = JSON.parse((await runCli(['explain', ...c.cli, '--json', '--admin', A])).stdout) as { reason: string, backend: string | null }
      await page.locator('.explained .reason', { hasText: cli.reason }).waitFor({ timeout: 10_000 })
      t.equal(await page.locator('.explained .reason').textContent(), cli.reason, `${c.cli.join(' ')}: the CLI's reason`)
      t.equal(await page.locator('.explained').getAttribute('data-backend'), cli.backend ?? '')
    }
    await rec.screenshot('route')
    clean(t, rec, origin)
  })

  let changed = 0
  t.test('change: a weight set in the form, previewed, is a revision in `switchyard history`', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/change/web`)
    const before = (await history(A)).revision
    await page.locator('input[name="weight-stable"]').fill('75')
    await page.locator('input[name="weight-canary"]').fill('25')
    const move = page.locator('.preview .moves li[data-from="stable"][data-to="canary"]')
    await move.waitFor({ timeout: 10_000 })
    t.match(await move.textContent(), /^[0-9.]+ % of users move from stable to canary$/)
    await rec.screenshot('change')
    await page.locator('.weights-form button[type="submit"]').click()
    const done = page.locator('.notice.ok')
    await done.waitFor({ timeout: 10_000 })
    changed = Number(await done.getAttribute('data-revision'))
    t.equal(changed, before + 1)
    t.match(await done.textContent(), `created revision ${changed}`)
    const h = await history(A)
    const entry = h.entries.find(e => e.revision === changed)
    t.equal(h.revision, changed)
    t.equal(entry?.source, 'api')
    t.match(entry?.summary, /stable 90→75.*canary 10→25|canary 10→25.*stable 90→75/)
    t.same(await weightsOf(A, 'web'), { stable: 75, canary: 25 })
    clean(t, rec, origin)
  })

  t.test('change: undo in the page restores the previous weights', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/change/web`)
    await page.locator('select[name="undo"]').selectOption(String(changed - 1))
    await page.locator('.preview .moves li[data-from="canary"][data-to="stable"]').waitFor({ timeout: 10_000 })
    await page.locator('form:has(select[name="undo"]) button[type="submit"]').click()
    const done = page.locator('.notice.ok')
    await done.waitFor({ timeout: 10_000 })
    t.equal(Number(await done.getAttribute('data-revision')), changed + 1, 'the undo is a new revision')
    await page.locator(`.basis[data-basis="${changed + 1}"]`).waitFor({ timeout: 10_000 })
    t.same(await weightsOf(A, 'web'), { stable: 90, canary: 10 })
    t.match((await history(A)).entries.at(-1)?.summary, `undo to revision ${changed - 1}`)
    t.equal(await page.locator('input[name="weight-canary"]').inputValue(), '10', 'the form shows the restored weights')
    clean(t, rec, origin)
  })

  t.test('change: an edit made with the CLI meanwhile makes the page\'s change a conflict, not an overwrite', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/change/web`)
    const basis = Number(await page.locator('.basis').getAttribute('data-basis'))
    await page.locator('input[name="weight-stable"]').fill('70')
    await page.locator('input[name="weight-canary"]').fill('30')
    await page.locator('.preview').waitFor({ timeout: 10_000 })

    const cli = await runCli(['set-weight', 'web', 'canary=40', '--admin', A])
    t.equal(cli.code, 0, cli.stderr)
    t.equal(cli.stdout.trim().split(':')[0], `revision ${basis + 1}`)

    await page.locator('.weights-form button[type="submit"]').click()
    const conflict = page.locator('.notice.conflict')
    await conflict.waitFor({ timeout: 10_000 })
    t.match(await conflict.textContent(), `Conflict: nothing was changed.`)
    t.match(await conflict.textContent(), `it is now at revision ${basis + 1}, and you were looking at revision ${basis}`)
    t.same(await weightsOf(A, 'web'), { stable: 60, canary: 40 }, 'the CLI\'s change stands')
    t.equal((await history(A)).revision, basis + 1, 'the page made no revision')
    await rec.screenshot('conflict')

    await page.locator('.notice.conflict button').click()
    await page.locator(`.basis[data-basis="${basis + 1}"]`).waitFor({ timeout: 10_000 })
    t.equal(await page.locator('input[name="weight-canary"]').inputValue(), '40', 'reloaded: the form starts from the CLI\'s weights')
    clean(t, rec, origin)
  })

  t.test('history: the revisions and a line diff between two of them', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/history`)
    const h = await history(A)
    await page.locator('table.diff').waitFor({ timeout: 10_000 })
    t.same(await page.locator('table.history tbody tr').evaluateAll(rows => rows.map(r => Number(r.getAttribute('data-revision')))),
      h.entries.map(e => e.revision).reverse(), 'every kept revision, newest first')
    t.match(await page.locator('table.history tr.current').textContent(), 'running')
    // By default the last change: the undo's 90/10 → the CLI's 60/40.
    t.match(await page.locator('table.diff tr.del').allTextContents(), [/stable: 90$/, /canary: 10$/])
    t.match(await page.locator('table.diff tr.add').allTextContents(), [/stable: 60$/, /canary: 40$/])
    // Any two: the first revision against the form's 75/25.
    await page.locator(`input[aria-label="A: revision ${h.entries[0]?.revision}"]`).check()
    await page.locator(`input[aria-label="B: revision ${changed}"]`).check()
    await page.locator('table.diff tr.add', { hasText: 'stable: 75' }).waitFor({ timeout: 10_000 })
    t.match(await page.locator('table.diff tr.add').allTextContents(), [/stable: 75$/, /canary: 25$/], 'revision 1 → the 75/25 revision')
    await rec.screenshot('history')
    clean(t, rec, origin)
  })

  t.test('change: promote, then roll back, each a revision the page names', async t => {
    const rec = await open(t)
    const { page } = rec
    await page.goto(`${A}/ui/#/change/web`)
    const before = (await history(A)).revision
    await page.locator('select[name="promote"]').selectOption('canary')
    await page.locator('form:has(select[name="promote"]) button[type="submit"]').click()
    const done = page.locator(`.notice.ok[data-revision="${before + 1}"]`)
    await done.waitFor({ timeout: 10_000 })
    t.match(await done.textContent(), `promote canary on web: created revision ${before + 1}`)
    const promoted = (await admin<StatusBody>(A, 'GET', '/admin/status')).body.routes.find(r => r.name === 'web')?.default
    t.same(promoted, { weights: { stable: 0, canary: 100 }, percent: { stable: 0, canary: 100 } }, 'everyone to canary')

    await page.locator('form:has(> span) button[type="submit"]', { hasText: 'Roll back' }).click()
    const back = page.locator(`.notice.ok[data-revision="${before + 2}"]`)
    await back.waitFor({ timeout: 10_000 })
    t.match(await back.textContent(), `rollback: created revision ${before + 2}`)
    t.same(await weightsOf(A, 'web'), { stable: 60, canary: 40 }, 'the weights before the promotion')
    t.match((await history(A)).entries.at(-1)?.summary, `rollback to revision ${before}`)
    clean(t, rec, origin)
  })
})

/** This machine's first non-loopback IPv4 address (as `hostname -I` lists it). */
function ownAddress (): string | undefined {
  return Object.values(networkInterfaces()).flat().find(a => a !== undefined && a.family === 'IPv4' && !a.internal)?.address
}

t.test('off loopback: the page asks for the token, keeps it for the tab, and the API refuses without it', async t => {
  const host = ownAddress()
  if (host === undefined) throw new Error('this machine has no non-loopback IPv4 address to bind the admin listener to')
  const TOKEN = 'browser-test-token'
  const sy = await startWith(config(host), { adminToken: TOKEN })
  t.teardown(() => sy.close())
  const A = sy.sy.adminUrl
  t.equal(new URL(A).hostname, host)
  const origin = new URL(A).origin

  t.equal((await admin(A, 'GET', '/admin/status')).status, 401, 'the API refuses a read without the token')
  t.equal((await admin(A, 'GET', '/admin/timeseries')).status, 401)
  t.equal((await admin(A, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 50 } } })).status, 401)
  t.equal((await admin(A, 'GET', '/ui/')).status, 200, 'the page itself is public: it holds no data')

  const rec = await open(t)
  const { page } = rec
  await page.goto(`${A}/ui/`)
  await page.locator('input[name="token"]').waitFor({ timeout: 10_000 })
  t.equal(await page.locator('section[data-route]').count(), 0, 'no data before signing in')
  await rec.screenshot('sign-in')

  await page.locator('input[name="token"]').fill('wrong')
  await page.locator('.sign-in button[type="submit"]').click()
  await page.locator('.sign-in .notice.error').waitFor({ timeout: 10_000 })
  t.match(await page.locator('.sign-in .notice.error').textContent(), 'The token was refused')

  await page.locator('input[name="token"]').fill(TOKEN)
  await page.locator('.sign-in button[type="submit"]').click()
  await page.locator('section[data-route="web"]').waitFor({ timeout: 10_000 })
  t.equal(await page.locator('section[data-route="web"] .legend li[data-backend="stable"] .pct').textContent(), '90 %')
  t.equal(await page.evaluate('sessionStorage.getItem("switchyard.adminToken")'), TOKEN, 'kept in sessionStorage')
  t.equal(await page.evaluate('localStorage.length + document.cookie.length'), 0, 'nowhere that outlives the tab')

  await page.reload()
  await page.locator('section[data-route="web"]').waitFor({ timeout: 10_000 })
  t.pass('a reload of the same tab stays signed in')

  const other = await open(t)
  await other.page.goto(`${A}/ui/`)
  await other.page.locator('input[name="token"]').waitFor({ timeout: 10_000 })
  t.pass('another tab asks again')

  await page.locator('.top button.link').click()
  await page.locator('input[name="token"]').waitFor({ timeout: 10_000 })
  t.equal(await page.evaluate('sessionStorage.getItem("switchyard.adminToken")'), null, 'signing out forgets the token')
  clean(t, rec, origin)
  clean(t, other, origin)
})
