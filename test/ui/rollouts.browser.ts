/**
 * The console's Rollouts and Fleet pages in a real Chromium against a real
 * switchyard with real backends and traffic:
 * - a rollout started from the page runs in switchyard (`switchyard rollout
 *   status` shows it); the judge's numbers the page shows for it are the
 *   ones the CLI prints; pause, resume, promote and abort clicked in the
 *   page change what `rollout status` says and the route's weights; a
 *   command the rollout's phase no longer allows (another operator aborted
 *   it meanwhile) is refused with the API's reason, and nothing changes;
 * - the Fleet page of a single instance shows a fleet of one that leads;
 *   against a 2-replica fleet (the fake Kubernetes API server) it lists both
 *   replicas, the revision each applies and the leader, and flags the
 *   replica stale while the store is out of reach.
 * Screenshots go to test-artifacts/ui/ (`rollouts.png`, `fleet.png`).
 */
import t, { type Test } from 'tap'
import { admin } from '../helpers/admin.js'
import { startBackends } from '../helpers/backends.js'
import { runCli } from '../helpers/cli.js'
import { assertClean, launchBrowser, openTab, type RecordedPage } from '../helpers/browser.js'
import { kubeHarness, startReplica, until } from '../helpers/fleet.js'
import { startWith } from '../helpers/switchyard.js'

interface RolloutJson {
  phase: string
  pauseReason?: string
  abortReason?: string
  weight: number
  step: { index: number }
  lastVerdict?: { rule: string, alpha: number, canary: { requests: number, errors: number }, baseline: { requests: number, errors: number }, errors: { delta: number } }
}
interface StatusBody { revision: number, routes: Array<{ name: string, default: { weights?: Record<string, number> } }> }

const { stable, canary } = await startBackends(t, 'stable', 'canary')
const routing = {
  backends: { stable: { version: '1.0', targets: [stable.url] }, canary: { version: '1.1', targets: [canary.url] } },
  routes: [{ name: 'web', match: { path: { prefix: '/' } }, split: { stable: 100, canary: 0 } }]
}

const browser = await launchBrowser()
t.teardown(() => browser.close())
const open = async (t: Test): Promise<RecordedPage> => await openTab(t, browser)

const statusOf = async (A: string): Promise<RolloutJson> => {
  const r = await runCli(['rollout', 'status', 'web', '--json', '--admin', A])
  if (r.code !== 0) throw new Error(`rollout status: ${r.stderr}`)
  return JSON.parse(r.stdout) as RolloutJson
}
const weightsOf = async (A: string): Promise<Record<string, number> | undefined> =>
  (await admin<StatusBody>(A, 'GET', '/admin/status')).body.routes.find(r => r.name === 'web')?.default.weights

t.test('rollouts: started, watched and driven from the page', async t => {
  // Looks every 200 ms, so the judge's numbers follow the traffic without waiting 5 s.
  const sy = await startWith({ ...routing, shutdown: { drainDelay: '0s' } }, { rollouts: { tickMs: 200 } })
  t.teardown(() => sy.close())
  const A = sy.sy.adminUrl
  const origin = new URL(A).origin
  const rec = await open(t)
  const { page } = rec
  await page.goto(`${A}/ui/#/rollouts`)
  await page.locator('.empty').waitFor({ timeout: 10_000 })

  // Start: route web, canary (the lightest backend is offered), steps 10, 50, 100.
  t.equal(await page.locator('select[name="canary"]').inputValue(), 'canary', 'the lightest backend is the canary offered')
  await page.locator('input[name="steps"]').fill('10, 50, 100')
  await page.locator('form.start-rollout button[type="submit"]').click()
  const card = page.locator('section.rollout[data-route="web"]')
  await card.locator('.step', { hasText: '1/3' }).waitFor({ timeout: 10_000 })
  t.equal(await card.getAttribute('data-phase'), 'Progressing')
  t.equal(await card.locator('.weight').textContent(), '10 %')
  t.same(await card.locator('ol.steps li').allTextContents(), ['10 %', '50 %', '100 %'])
  t.equal(await card.locator('ol.steps li[aria-current="step"]').textContent(), '10 %')
  let cli = await statusOf(A)
  t.same([cli.phase, cli.step.index, cli.weight], ['Progressing', 0, 10], '`rollout status`: the rollout the page started')
  t.same(await weightsOf(A), { stable: 90, canary: 10 }, 'the first step is set')

  // Traffic, then the judge's numbers: once the page shows all of it, the same numbers as the CLI.
  const N = 300
  let ok = 0
  for (let i = 0; i < N; i++) if ((await sy.get(`/p/${i}`)).status === 200) ok++
  t.equal(ok, N, 'every request answered')
  await until('a look counted every request', async () => {
    const v = (await statusOf(A)).lastVerdict
    return v !== undefined && v.canary.requests + v.baseline.requests === N
  })
  cli = await statusOf(A)
  const v = cli.lastVerdict
  if (v === undefined) throw new Error('no verdict')
  const verdict = card.locator('section.verdict')
  await verdict.locator(`tr[data-arm="baseline"] td[data-col="requests"]`, { hasText: new RegExp(`^${v.baseline.requests}$`) }).waitFor({ timeout: 30_000 })
  t.ok(v.canary.requests > 0 && v.baseline.requests > 0, `both arms served (${v.canary.requests} + ${v.baseline.requests})`)
  t.equal(await verdict.locator('tr[data-arm="canary"] td[data-col="requests"]').textContent(), String(v.canary.requests), 'canary requests as the CLI says')
  t.equal(await verdict.locator('tr[data-arm="canary"] td[data-col="errors"]').textContent(), String(v.canary.errors))
  t.equal(await verdict.locator('tr[data-arm="baseline"] td[data-col="errors"]').textContent(), String(v.baseline.errors))
  t.equal(await verdict.getAttribute('data-rule'), v.rule, 'the rule that decided')
  t.match(await verdict.locator('[data-col="alpha"]').textContent(), `α ${v.alpha}`)
  t.match(await verdict.locator('li[data-metric="errors"] [data-col="delta"]').textContent(), `δ ${v.errors.delta}`)
  t.equal(await verdict.locator('table.tests tr[data-test="errors.worse"] td[data-col="p"]').count(), 1, 'the errors tests with their p-values')
  t.equal(await verdict.locator('table.tests tr[data-test="sample ratio.low"]').count(), 1, 'the sample-ratio tests')
  await rec.screenshot('rollouts')

  // Pause, resume, promote from the page; each shows the rollout as it is now and `rollout status` agrees.
  const notice = card.locator('.notice.ok')
  await card.locator('button[name="pause"]').click()
  await notice.filter({ hasText: 'pause web: now Paused (manual), step 1/3' }).waitFor({ timeout: 10_000 })
  cli = await statusOf(A)
  t.same([cli.phase, cli.pauseReason], ['Paused', 'manual'], '`rollout status`: paused by the page')
  t.equal(await card.getAttribute('data-phase'), 'Paused')
  t.equal(await card.locator('button[name="pause"]').count(), 0, 'a paused rollout offers no pause')

  await card.locator('button[name="resume"]').click()
  await notice.filter({ hasText: 'resume web: now Progressing, step 1/3' }).waitFor({ timeout: 10_000 })
  t.equal((await statusOf(A)).phase, 'Progressing', '`rollout status`: resumed by the page')

  await card.locator('button[name="promote"]').click()
  await notice.filter({ hasText: 'promote web: now Progressing, step 2/3, canary at 50 %' }).waitFor({ timeout: 10_000 })
  cli = await statusOf(A)
  t.same([cli.step.index, cli.weight], [1, 50], '`rollout status`: promoted to the next step')
  t.same(await weightsOf(A), { stable: 50, canary: 50 })

  // A second operator's tab, its polling frozen so it keeps showing the rollout running.
  const other = await open(t)
  await other.page.clock.install()
  await other.page.goto(`${A}/ui/#/rollouts`)
  const stale = other.page.locator('section.rollout[data-route="web"]')
  await other.page.locator('section.rollout[data-route="web"][data-phase="Progressing"]').waitFor({ timeout: 10_000 })

  await card.locator('button[name="abort"]').click()
  t.match(await card.locator('.confirm-abort').textContent(), 'The weights it started from come back (stable 100, canary 0)', 'abort asks first')
  t.equal((await statusOf(A)).phase, 'Progressing', 'nothing aborted before the confirmation')
  await card.locator('button[name="confirm-abort"]').click()
  await notice.filter({ hasText: 'abort web: now Aborted (manual)' }).waitFor({ timeout: 10_000 })
  cli = await statusOf(A)
  t.same([cli.phase, cli.abortReason], ['Aborted', 'manual'], '`rollout status`: aborted by the page')
  t.same(await weightsOf(A), { stable: 100, canary: 0 }, 'the starting weights are back')
  t.equal(await card.locator('.commands').count(), 0, 'an ended rollout offers no commands')

  await stale.locator('button[name="pause"]').click()
  const refused = stale.locator('.notice.error')
  await refused.waitFor({ timeout: 10_000 })
  t.match(await refused.textContent(), /^pause failed: the rollout of web is Aborted; this needs it Progressing \[SY_ERR_ROLLOUT_PHASE\]$/)
  t.equal((await statusOf(A)).phase, 'Aborted', 'the refused command changed nothing')
  await stale.and(other.page.locator('[data-phase="Aborted"]')).waitFor({ timeout: 10_000 })
  t.pass('the refused tab shows the rollout as it is now')
  t.equal(await stale.locator('.commands').count(), 0, 'and offers no more commands')
  assertClean(t, rec, origin)
  assertClean(t, other, origin)

  // A single instance is a fleet of one.
  const fleet = await open(t)
  await fleet.page.goto(`${A}/ui/#/fleet`)
  const row = fleet.page.locator('table.fleet tbody tr')
  await row.first().waitFor({ timeout: 10_000 })
  t.equal(await row.count(), 1, 'one member')
  t.equal(await fleet.page.locator('[data-shared]').getAttribute('data-shared'), 'false')
  const status = (await admin<StatusBody>(A, 'GET', '/admin/status')).body
  t.equal(await row.locator('td[data-col="revision"]').textContent(), String(status.revision))
  t.match(await row.textContent(), /this instance.*this page.*leader/)
  t.equal(await row.locator('td[data-col="state"]').textContent(), 'current')
  assertClean(t, fleet, origin)
})

t.test('fleet: two replicas on a shared store, the revision each applies, the leader, a stale one flagged', async t => {
  const h = await kubeHarness()
  t.teardown(() => h.close())
  const a = await startReplica(h, 'ui', 'replica-a', routing)
  t.teardown(() => a.close())
  const b = await startReplica(h, 'ui', 'replica-b', routing)
  t.teardown(() => b.close())
  await until('both replicas registered and a leader elected', async () => {
    const s = (await admin<{ leader: string | null, replicas: unknown[] | null }>(a.sy.adminUrl, 'GET', '/admin/status')).body
    return s.leader !== null && s.replicas?.length === 2
  })
  // An edit through replica b: both apply it.
  t.equal((await admin(b.sy.adminUrl, 'PUT', '/admin/routes/web/weights', { body: { weights: { canary: 20 } } })).status, 200)
  const revision = b.sy.live.current.revision
  await until(`replica a at revision ${revision}`, () => a.sy.live.current.revision === revision)

  const A = a.sy.adminUrl
  const origin = new URL(A).origin
  const rec = await open(t)
  const { page } = rec
  await page.goto(`${A}/ui/#/fleet`)
  const rows = page.locator('table.fleet tbody tr')
  // The page polls every 5 s; membership rows carry the revision each replica last registered.
  await page.locator(`table.fleet tr[data-replica="replica-b"] td[data-col="revision"]`, { hasText: String(revision) }).waitFor({ timeout: 20_000 })
  await page.locator(`table.fleet tr[data-replica="replica-a"] td[data-col="revision"]`, { hasText: String(revision) }).waitFor({ timeout: 20_000 })
  t.equal(await rows.count(), 2, 'both replicas')
  t.equal(await page.locator('[data-shared]').getAttribute('data-shared'), 'true')
  t.match(await page.locator('tr[data-replica="replica-a"]').textContent(), 'this page', 'the replica the page asked')
  const leader = a.sy.fleet.leadership.isLeader ? 'replica-a' : 'replica-b'
  t.equal(await page.locator('.leader-name').textContent(), leader, 'the leader, as the replicas elected it')
  t.equal(await page.locator(`tr[data-replica="${leader}"] .tag.leader`).count(), 1)
  t.equal(await page.locator('tr .tag.leader').count(), 1, 'one leader')
  t.same(await page.locator('td[data-col="state"]').allTextContents(), ['current', 'current'])
  await rec.screenshot('fleet')

  // The store out of reach: the replica serves its last good revision and the page flags it stale.
  await h.outage()
  // (While the store cannot list its members, the page shows the replica it asked, and says why.)
  const stale = page.locator('table.fleet tr.stale')
  await stale.waitFor({ timeout: 20_000 })
  t.match(await stale.textContent(), 'this page', 'the replica the page asked is the stale one')
  t.match(await stale.locator('td[data-col="state"]').textContent(), /^stale: the store is out of reach.*serving its last good revision$/)
  await rec.screenshot('fleet-stale')
  await h.recover()
  await page.locator('tr[data-replica="replica-a"]:not(.stale)').waitFor({ timeout: 30_000 })
  t.equal(await stale.count(), 0, 'no stale replica left')
  t.pass('back to current once the store answers')
  assertClean(t, rec, origin)
})
