/**
 * The fake API server keeps the Kubernetes semantics the kube store relies
 * on, proven with the real client (@kubernetes/client-node) against it.
 */
import t from 'tap'
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, V1MicroTime, Watch, type V1ConfigMap } from '@kubernetes/client-node'
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../helpers/fake-kube-apiserver.js'

const NS = 'apps'

interface Failure { code: number | undefined, reason: string | undefined }

/** The HTTP code and Status reason of a failed call. */
async function failure (p: Promise<unknown>): Promise<Failure> {
  try {
    await p
  } catch (err) {
    if (!(err instanceof ApiException)) throw err
    const body = typeof err.body === 'string' && err.body !== '' ? JSON.parse(err.body) as { reason?: string } : {}
    return { code: err.code as number, reason: body.reason }
  }
  return { code: undefined, reason: 'the call succeeded' }
}

function clients (fake: FakeKubeApiServer): { core: CoreV1Api, leases: CoordinationV1Api, watch: Watch } {
  const kc = new KubeConfig()
  kc.loadFromString(fake.kubeconfig(NS))
  return { core: kc.makeApiClient(CoreV1Api), leases: kc.makeApiClient(CoordinationV1Api), watch: new Watch(kc) }
}

const cm = (name: string, data: Record<string, string> = { k: 'v' }, labels?: Record<string, string>): V1ConfigMap =>
  ({ metadata: { name, ...(labels === undefined ? {} : { labels }) }, data })

interface Seen { type: string, name: string | undefined, rv: string | undefined, code?: number, reason?: string }

/** Opens a watch and records its events; `done` resolves when the stream ends. */
async function watching (watch: Watch, path: string, query: Record<string, string | boolean>): Promise<{ seen: Seen[], next: (n: number) => Promise<Seen[]>, done: Promise<unknown>, abort: () => void }> {
  const seen: Seen[] = []
  let wake = (): void => {}
  let ended: (err: unknown) => void = () => {}
  const done = new Promise(resolve => { ended = resolve })
  const controller = await watch.watch(path, query, (type, obj: { metadata?: { name?: string, resourceVersion?: string }, code?: number, reason?: string }) => {
    seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, ...(obj.code === undefined ? {} : { code: obj.code, reason: obj.reason }) })
    wake()
  }, err => ended(err))
  const next = (n: number): Promise<Seen[]> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} events: ${JSON.stringify(seen)}`)), 10_000)
    wake = () => { if (seen.length >= n) { clearTimeout(timer); resolve(seen.slice(0, n)) } }
    wake()
  })
  return { seen, next, done, abort: () => controller.abort() }
}

t.test('fake Kubernetes API server', async t => {
  const fake = await startFakeKubeApiServer({ token: 's3cret' })
  t.teardown(() => fake.close())
  const { core, leases, watch } = clients(fake)
  const cmPath = `/api/v1/namespaces/${NS}/configmaps`

  t.test('a wrong token is 401 Unauthorized', async t => {
    const kc = new KubeConfig()
    kc.loadFromString(fake.kubeconfig(NS).replace('s3cret', 'wrong'))
    t.same(await failure(kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS })), { code: 401, reason: undefined })
  })

  t.test('ConfigMaps: create, get, optimistic update, delete, with the API server\'s codes', async t => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm('one') })
    const rv1 = Number(created.metadata?.resourceVersion)
    t.ok(rv1 > 0, 'a resourceVersion')
    t.match(created.metadata, { name: 'one', namespace: NS, uid: /^[0-9a-f-]{36}$/ })
    t.same(await failure(core.createNamespacedConfigMap({ namespace: NS, body: cm('one') })), { code: 409, reason: 'AlreadyExists' })
    t.same(await failure(core.createNamespacedConfigMap({ namespace: NS, body: { ...cm('two'), metadata: { name: 'two', resourceVersion: '5' } } })), { code: 500, reason: 'InternalError' }, 'no resourceVersion on create')
    t.same(await failure(core.readNamespacedConfigMap({ namespace: NS, name: 'missing' })), { code: 404, reason: 'NotFound' })
    const read = await core.readNamespacedConfigMap({ namespace: NS, name: 'one' })
    t.same(read.data, { k: 'v' })
    const updated = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'one', body: { ...read, data: { k: 'w' } } })
    const rv2 = Number(updated.metadata?.resourceVersion)
    t.ok(rv2 > rv1, 'an update moves the resourceVersion on')
    t.equal(updated.metadata?.uid, created.metadata?.uid, 'and keeps the uid')
    t.same(await failure(core.replaceNamespacedConfigMap({ namespace: NS, name: 'one', body: { ...read, data: { k: 'x' } } })), { code: 409, reason: 'Conflict' }, 'a stale resourceVersion is a 409 Conflict')
    const same = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'one', body: updated })
    t.equal(Number(same.metadata?.resourceVersion), rv2, 'a no-op update keeps the resourceVersion')
    const blind = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'one', body: cm('one', { k: 'y' }) })
    t.ok(Number(blind.metadata?.resourceVersion) > rv2, 'an update without a resourceVersion is unconditional')
    t.same(await failure(core.replaceNamespacedConfigMap({ namespace: NS, name: 'missing', body: cm('missing') })), { code: 404, reason: 'NotFound' })
    t.same(await failure(core.replaceNamespacedConfigMap({ namespace: NS, name: 'one', body: cm('other') })), { code: 400, reason: 'BadRequest' }, 'the name must match the URL')
    t.same(await failure(core.deleteNamespacedConfigMap({ namespace: NS, name: 'one', body: { preconditions: { resourceVersion: String(rv1) } } })), { code: 409, reason: 'Conflict' }, 'a delete precondition is checked')
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'one' })
    t.same(await failure(core.readNamespacedConfigMap({ namespace: NS, name: 'one' })), { code: 404, reason: 'NotFound' })
    t.same(await failure(core.deleteNamespacedConfigMap({ namespace: NS, name: 'one' })), { code: 404, reason: 'NotFound' })
    t.same(await failure(core.createNamespacedConfigMap({ namespace: NS, body: cm('Bad_Name') })), { code: 422, reason: 'Invalid' })
    t.same(await failure(core.createNamespacedConfigMap({ namespace: NS, body: cm('big', { k: 'x'.repeat(1024 * 1024) }) })), { code: 422, reason: 'Invalid' }, 'at most 1 MiB of data')
  })

  t.test('lists: label and field selectors, one resourceVersion for every kind', async t => {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('l-a', {}, { app: 'a', tier: 'web' }) })
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('l-b', {}, { app: 'b' }) })
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('l-none') })
    await core.createNamespacedConfigMap({ namespace: 'elsewhere', body: cm('l-a', {}, { app: 'a' }) })
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> => {
      const list = await core.listNamespacedConfigMap({ namespace: NS, ...(labelSelector === undefined ? {} : { labelSelector }), ...(fieldSelector === undefined ? {} : { fieldSelector }) })
      return list.items.map(i => i.metadata?.name ?? '').filter(n => n.startsWith('l-'))
    }
    t.same(await names(), ['l-a', 'l-b', 'l-none'], 'sorted by name, this namespace only')
    t.same(await names('app=a'), ['l-a'])
    t.same(await names('app==a,tier=web'), ['l-a'])
    t.same(await names('app!=a'), ['l-b', 'l-none'], '!= matches objects without the label')
    t.same(await names('app in (a, b)'), ['l-a', 'l-b'])
    t.same(await names('app notin (a)'), ['l-b', 'l-none'])
    t.same(await names('app'), ['l-a', 'l-b'])
    t.same(await names('!app'), ['l-none'])
    t.same(await names(undefined, 'metadata.name=l-b'), ['l-b'])
    t.same(await names(undefined, 'metadata.name!=l-b'), ['l-a', 'l-none'])
    t.same(await failure(core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'data.k=v' })), { code: 400, reason: 'BadRequest' }, 'unsupported field')
    t.same(await failure(core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app in a' })), { code: 400, reason: 'BadRequest' }, 'bad label selector')
    const before = Number((await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion)
    await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'bump' }, spec: { holderIdentity: 'x' } } })
    t.equal(Number((await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion), before + 1, 'a Lease write moves the ConfigMap list\'s version too')
  })

  t.test('Leases: MicroTime with six fractional digits, as the real server parses it', async t => {
    const at = new V1MicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))
    const lease = await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: at, renewTime: at, leaseTransitions: 0 } } })
    t.match(lease.spec, { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 })
    t.equal(new Date(String(lease.spec?.renewTime)).getTime(), at.getTime(), 'the time round-trips')
    t.same(await failure(leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'ms' }, spec: { renewTime: new Date() } } })), { code: 400, reason: 'BadRequest' }, 'a plain Date (3 digits) is refused')
    t.same(await failure(leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'zero' }, spec: { leaseDurationSeconds: 0 } } })), { code: 422, reason: 'Invalid' })
    t.same(await failure(leases.replaceNamespacedLease({ namespace: NS, name: 'leader', body: { ...lease, metadata: { ...lease.metadata, resourceVersion: '1' } } })), { code: 409, reason: 'Conflict' })
  })

  t.test('watch: events in order from a resourceVersion, selector moves, bookmarks', async t => {
    const start = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? ''
    const w = await watching(watch, cmPath, { resourceVersion: start, labelSelector: 'watched=yes', allowWatchBookmarks: true })
    t.teardown(w.abort)
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('w', { n: '1' }, { watched: 'yes' }) })
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('w-other', { n: '1' }) })
    const read = await core.readNamespacedConfigMap({ namespace: NS, name: 'w' })
    const modified = await core.replaceNamespacedConfigMap({ namespace: NS, name: 'w', body: { ...read, data: { n: '2' } } })
    fake.bookmark()
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'w', body: { ...modified, metadata: { ...modified.metadata, labels: { watched: 'no' } } } })
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'w' })
    const events = await w.next(4)
    t.same(events.map(e => [e.type, e.name]), [['ADDED', 'w'], ['MODIFIED', 'w'], ['BOOKMARK', undefined], ['DELETED', 'w']], 'a label change out of the selector is a DELETED; the later delete is not seen')
    const rvs = events.map(e => Number(e.rv))
    t.same(rvs, [...rvs].sort((a, b) => a - b), 'resourceVersions increase')
    t.equal(events[2]?.rv, modified.metadata?.resourceVersion, 'the bookmark carries the current version')

    const resumed = await watching(watch, cmPath, { resourceVersion: events[0]?.rv ?? '', labelSelector: 'watched=yes' })
    t.teardown(resumed.abort)
    fake.bookmark()
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('w2', {}, { watched: 'yes' }) })
    t.same((await resumed.next(3)).map(e => e.type), ['MODIFIED', 'DELETED', 'ADDED'], 'a watch resumed from a version replays what followed it, without bookmarks unless asked')

    const fresh = await watching(watch, cmPath, { labelSelector: 'watched=yes' })
    t.teardown(fresh.abort)
    t.same((await fresh.next(1)).map(e => [e.type, e.name]), [['ADDED', 'w2']], 'no version: the current objects as ADDED')
    fake.dropWatches()
    const ended = await fresh.done
    t.match(ended, { code: 'ERR_STREAM_PREMATURE_CLOSE' }, 'a dropped watch ends the stream with an error the client sees')
  })

  t.test('watch from before the compaction point: an ERROR event with a 410 Status, then the end', async t => {
    const old = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? ''
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('c1') })
    fake.compact()
    const w = await watching(watch, cmPath, { resourceVersion: old })
    t.same(await w.next(1), [{ type: 'ERROR', name: undefined, rv: undefined, code: 410, reason: 'Expired' }])
    t.equal(await w.done, null)
    const now = await watching(watch, cmPath, { resourceVersion: String(fake.resourceVersion) })
    t.teardown(now.abort)
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('c2') })
    t.same((await now.next(1)).map(e => [e.type, e.name]), [['ADDED', 'c2']], 'a watch from the compaction point on works')
  })

  t.test('stopped, it refuses connections; started, it answers with its state on the same port', async t => {
    const url = fake.url
    await fake.stop()
    const down = await core.readNamespacedConfigMap({ namespace: NS, name: 'c2' }).then(() => 'answered', (err: unknown) => err instanceof ApiException ? 'api error' : 'network error')
    t.equal(down, 'network error')
    await fake.start()
    t.equal(fake.url, url)
    t.equal((await core.readNamespacedConfigMap({ namespace: NS, name: 'c2' })).metadata?.name, 'c2')
  })
})
