/**
 * An in-memory Kubernetes API server on 127.0.0.1 for the fleet tests (no
 * real one can be installed here): ConfigMaps and coordination.k8s.io/v1
 * Leases in any namespace, over real HTTP and JSON as @kubernetes/client-node
 * speaks it, with the API server's semantics for what switchyard uses:
 * - one global, increasing resourceVersion; a no-op update keeps it and sends no event;
 * - create → 409 AlreadyExists; get/update/delete of a missing object → 404 NotFound;
 *   update or delete with a stale metadata.resourceVersion / precondition → 409 Conflict;
 * - list and watch with label selectors and metadata.name/namespace field selectors;
 * - watch streams of newline-delimited ADDED/MODIFIED/DELETED events, resumed from a
 *   resourceVersion, with BOOKMARK events when allowWatchBookmarks is set;
 * - a watch from a version older than the compaction point gets HTTP 200 and one ERROR event
 *   carrying a Status with code 410 (reason Expired), then the stream ends: that is how the
 *   real server answers (kubernetes/kubernetes#25151), not with an HTTP 410.
 * Tests can compact, send bookmarks, drop every watch, and stop and restart it on the same port.
 * PATCH and the other resources are not implemented (405 / 404).
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { DNS_SUBDOMAIN, RESOURCES, qualified, status, userContent, type KubeObject, type Resource, type Status } from './fake-kube/objects.js'
import { parseFieldSelector, parseLabelSelector, SelectorError, type Selector } from './fake-kube/selectors.js'

export interface FakeKubeOptions {
  /** Bearer token every request must carry; none: no auth. */
  readonly token?: string
  /** Send a BOOKMARK this often to watches that allow them (the real server: about a minute). */
  readonly bookmarkIntervalMs?: number
}

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
}

export interface FakeKubeApiServer {
  readonly url: string
  readonly requests: RecordedRequest[]
  /** The newest resourceVersion handed out. */
  readonly resourceVersion: number
  /** A kubeconfig for it (token auth when a token is set). */
  kubeconfig (namespace?: string): string
  /** Forgets every event up to now: a watch from an older version gets 410 Gone. */
  compact (): void
  /** Sends a BOOKMARK at the current version to every watch that allows them. */
  bookmark (): void
  /** Ends every open watch stream, as an API server restart or a load balancer would. */
  dropWatches (): void
  /** Stops answering (all connections reset) and starts again on the same port, state kept. */
  stop (): Promise<void>
  start (): Promise<void>
  close (): Promise<void>
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

interface StoredEvent {
  readonly rv: number
  readonly resource: Resource
  readonly type: EventType
  readonly object: KubeObject
  /** The object before a MODIFIED: a selector watch sees an object leave or enter it. */
  readonly before?: KubeObject
}

interface WatchStream {
  readonly resource: Resource
  readonly namespace: string
  readonly selector: Selector
  readonly bookmarks: boolean
  readonly res: ServerResponse
}

class HttpError extends Error {
  constructor (readonly status: Status) { super(status.message) }
}

const fail = (code: number, message: string, reason?: string, details?: Status['details']): HttpError => new HttpError(status(code, message, reason, details))
const clone = <T>(o: T): T => structuredClone(o)
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

export async function startFakeKubeApiServer (options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
  const objects = new Map<string, KubeObject>()
  const events: StoredEvent[] = []
  const watches = new Set<WatchStream>()
  const sockets = new Set<Socket>()
  const requests: RecordedRequest[] = []
  let rv = 1
  let compactedRv = 0
  let port = 0

  const keyOf = (r: Resource, ns: string, name: string): string => `${r.plural}/${ns}/${name}`
  const matches = (w: WatchStream, o: KubeObject | undefined): boolean =>
    o !== undefined && o.metadata.namespace === w.namespace && w.selector(o.metadata)

  const write = (res: ServerResponse, type: string, object: unknown): void => {
    res.write(JSON.stringify({ type, object }) + '\n')
  }

  /** What one watch sees of one stored event (selector moves included), if anything. */
  const deliver = (w: WatchStream, e: StoredEvent): void => {
    if (e.resource !== w.resource) return
    const now = matches(w, e.object)
    const was = e.type === 'MODIFIED' ? matches(w, e.before) : now
    if (e.type === 'MODIFIED' && was !== now) write(w.res, now ? 'ADDED' : 'DELETED', e.object)
    else if (now) write(w.res, e.type, e.object)
  }

  const record = (e: StoredEvent): void => {
    events.push(e)
    for (const w of watches) deliver(w, e)
  }

  const parseBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString()
    try {
      const body = JSON.parse(text === '' ? '{}' : text) as unknown
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object')
      return body as Record<string, unknown>
    } catch (err) {
      throw fail(400, `the body of the request was in an unknown format: ${(err as Error).message}`)
    }
  }

  const incoming = async (r: Resource, ns: string, req: IncomingMessage): Promise<KubeObject> => {
    const body = await parseBody(req)
    if (body.kind !== undefined && body.kind !== r.kind) throw fail(400, `${r.kind} in version "v1" cannot be handled as a ${r.kind}: kind ${String(body.kind)} does not match`)
    const metadata = (typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}) as KubeObject['metadata']
    if (metadata.namespace !== undefined && metadata.namespace !== ns) throw fail(400, 'the namespace of the provided object does not match the namespace sent on the request')
    const o = { ...body, apiVersion: r.apiVersion, kind: r.kind, metadata: { ...metadata, namespace: ns } } as KubeObject
    const problem = r.check(o)
    if (problem !== undefined) throw fail(problem[0], problem[1])
    return o
  }

  const get = (r: Resource, ns: string, name: string): KubeObject => {
    const o = objects.get(keyOf(r, ns, name))
    if (o === undefined) throw fail(404, `${qualified(r, name)} not found`, 'NotFound', { name, group: r.group, kind: r.plural })
    return o
  }

  const create = async (r: Resource, ns: string, req: IncomingMessage): Promise<[number, KubeObject]> => {
    const o = await incoming(r, ns, req)
    const name = o.metadata.name
    if (typeof name !== 'string' || name === '') throw fail(422, `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 'Invalid')
    if (!DNS_SUBDOMAIN.test(name) || name.length > 253) throw fail(422, `${r.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`, 'Invalid')
    if (o.metadata.resourceVersion !== undefined && o.metadata.resourceVersion !== '') throw fail(500, 'resourceVersion should not be set on objects to be created')
    if (objects.has(keyOf(r, ns, name))) throw fail(409, `${qualified(r, name)} already exists`, 'AlreadyExists', { name, group: r.group, kind: r.plural })
    const stored: KubeObject = { ...o, metadata: { ...o.metadata, uid: randomUUID(), resourceVersion: String(++rv), creationTimestamp: now() } }
    objects.set(keyOf(r, ns, name), stored)
    record({ rv, resource: r, type: 'ADDED', object: clone(stored) })
    return [201, stored]
  }

  const update = async (r: Resource, ns: string, name: string, req: IncomingMessage): Promise<[number, KubeObject]> => {
    const o = await incoming(r, ns, req)
    if (o.metadata.name !== name) throw fail(400, `the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${name})`)
    const current = get(r, ns, name)
    const conflict = (): HttpError => fail(409, `Operation cannot be fulfilled on ${qualified(r, name)}: the object has been modified; please apply your changes to the latest version and try again`, 'Conflict', { name, group: r.group, kind: r.plural })
    // No resourceVersion: an unconditional update, which ConfigMaps and Leases allow.
    if (o.metadata.resourceVersion !== undefined && o.metadata.resourceVersion !== '' && o.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict()
    if (userContent(r, o) === userContent(r, current)) return [200, current]
    const stored: KubeObject = { ...o, metadata: { ...o.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, resourceVersion: String(++rv) } }
    objects.set(keyOf(r, ns, name), stored)
    record({ rv, resource: r, type: 'MODIFIED', object: clone(stored), before: clone(current) })
    return [200, stored]
  }

  const remove = async (r: Resource, ns: string, name: string, req: IncomingMessage): Promise<[number, Status]> => {
    const body = await parseBody(req)
    const current = get(r, ns, name)
    const pre = (body.preconditions ?? {}) as { resourceVersion?: string }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw fail(409, `Operation cannot be fulfilled on ${qualified(r, name)}: Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`, 'Conflict', { name, group: r.group, kind: r.plural })
    }
    objects.delete(keyOf(r, ns, name))
    const gone: KubeObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(++rv) } }
    record({ rv, resource: r, type: 'DELETED', object: clone(gone) })
    return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: r.group, kind: r.plural, uid: current.metadata.uid ?? '' }, code: 200 }]
  }

  const selectorOf = (q: URLSearchParams): Selector => {
    try {
      const labels = parseLabelSelector(q.get('labelSelector'))
      const fields = parseFieldSelector(q.get('fieldSelector'))
      return meta => labels(meta) && fields(meta)
    } catch (err) {
      if (err instanceof SelectorError) throw fail(400, err.message)
      throw err
    }
  }

  const list = (r: Resource, ns: string, q: URLSearchParams): Record<string, unknown> => {
    const selector = selectorOf(q)
    const items = [...objects.entries()]
      .filter(([k, o]) => k.startsWith(`${r.plural}/${ns}/`) && selector(o.metadata))
      .sort(([a], [b]) => a < b ? -1 : 1)
      // List items carry no apiVersion/kind: the list's own TypeMeta covers them.
      .map(([, { apiVersion: _a, kind: _k, ...rest }]) => rest)
    return { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata: { resourceVersion: String(rv) }, items }
  }

  const watch = (r: Resource, ns: string, q: URLSearchParams, res: ServerResponse): void => {
    const w: WatchStream = { resource: r, namespace: ns, selector: selectorOf(q), bookmarks: q.get('allowWatchBookmarks') === 'true', res }
    const from = q.get('resourceVersion') ?? ''
    const since = Number(from)
    if (!Number.isInteger(since) || since < 0) throw fail(400, `invalid resource version: ${from}`)
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    res.flushHeaders()
    if (from === '' || from === '0') {
      // "Start at most recent": the current objects as synthetic ADDED events first.
      for (const o of objects.values()) if (o.kind === r.kind && matches(w, o)) write(res, 'ADDED', o)
    } else {
      if (since < compactedRv) {
        write(res, 'ERROR', status(410, `too old resource version: ${since} (${compactedRv})`, 'Expired'))
        res.end()
        return
      }
      for (const e of events) if (e.rv > since) deliver(w, e)
    }
    watches.add(w)
    res.on('close', () => watches.delete(w))
    const timeout = Number(q.get('timeoutSeconds') ?? 0)
    if (timeout > 0) setTimeout(() => res.end(), timeout * 1000).unref()
  }

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<[number, unknown] | undefined> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams })
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) throw fail(401, 'Unauthorized')
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname)
    const r = RESOURCES.find(x => m !== null && x.plural === m[3] && x.group === (m[1] ?? ''))
    if (m === null || r === undefined) throw fail(404, 'the server could not find the requested resource')
    const [, , ns = '', , name] = m
    const method = req.method ?? 'GET'
    if (name === undefined) {
      if (method === 'GET' && ['true', '1'].includes(url.searchParams.get('watch') ?? '')) {
        watch(r, ns, url.searchParams, res)
        return undefined
      }
      if (method === 'GET') return [200, list(r, ns, url.searchParams)]
      if (method === 'POST') return await create(r, ns, req)
    } else {
      if (method === 'GET') return [200, get(r, ns, name)]
      if (method === 'PUT') return await update(r, ns, name, req)
      if (method === 'DELETE') return await remove(r, ns, name, req)
    }
    throw fail(405, `the server does not allow this method on the requested resource (${method} is not implemented by the fake)`)
  }

  const server: Server = createServer((req, res) => {
    route(req, res).then(answer => {
      if (answer === undefined) return
      res.writeHead(answer[0], { 'content-type': 'application/json' }).end(JSON.stringify(answer[1]))
    }, (err: unknown) => {
      const s = err instanceof HttpError ? err.status : status(500, String(err))
      if (res.headersSent) res.end()
      else res.writeHead(s.code, { 'content-type': 'application/json' }).end(JSON.stringify(s))
    })
  })
  server.on('connection', s => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })

  const listen = (): Promise<void> => new Promise((resolve, reject) => {
    server.once('error', reject).listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      const a = server.address()
      if (a !== null && typeof a !== 'string') port = a.port
      resolve()
    })
  })
  const halt = async (): Promise<void> => {
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  await listen()
  const bookmark = (): void => {
    for (const w of watches) if (w.bookmarks) write(w.res, 'BOOKMARK', { kind: w.resource.kind, apiVersion: w.resource.apiVersion, metadata: { resourceVersion: String(rv) } })
  }
  const bookmarks = options.bookmarkIntervalMs === undefined ? undefined : setInterval(bookmark, options.bookmarkIntervalMs)
  bookmarks?.unref()

  return {
    get url () { return `http://127.0.0.1:${port}` },
    requests,
    get resourceVersion () { return rv },
    kubeconfig (namespace = 'default') {
      return JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // client-node refuses plain http with credentials unless TLS checks are off.
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fake', user: options.token === undefined ? {} : { token: options.token } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
        'current-context': 'fake'
      })
    },
    compact () {
      compactedRv = rv
      events.splice(0, events.length)
    },
    bookmark,
    dropWatches () {
      for (const w of watches) w.res.destroy()
    },
    stop: halt,
    start: listen,
    close: async () => {
      clearInterval(bookmarks)
      await halt()
    }
  }
}
