/**
 * A real @grpc/grpc-js service for the tests, without a .proto: messages are
 * JSON, serialised by the service definition itself. Each server knows its
 * version and answers every RPC shape: unary, server-streaming,
 * client-streaming is not needed, bidirectional. `fail` makes every call
 * answer that status.
 */
import * as grpc from '@grpc/grpc-js'

export interface Msg { version?: string, n?: number, user?: string, metadata?: Record<string, string> }

const json = {
  serialize: (m: Msg): Buffer => Buffer.from(JSON.stringify(m)),
  deserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg
}

function method (path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Msg, Msg> {
  return { path, requestStream, responseStream, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize }
}

export const VersionService = {
  who: method('/test.Version/Who', false, false),
  count: method('/test.Version/Count', false, true),
  /** Streams a message every 10 ms until the client cancels: a long-lived stream. */
  watch: method('/test.Version/Watch', false, true),
  chat: method('/test.Version/Chat', true, true)
} satisfies grpc.ServiceDefinition

export const VersionClient = grpc.makeGenericClientConstructor(VersionService, 'Version')
export type VersionClientT = InstanceType<typeof VersionClient> & {
  who (m: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, r?: Msg) => void): grpc.ClientUnaryCall
  count (m: Msg, md?: grpc.Metadata): grpc.ClientReadableStream<Msg>
  watch (m: Msg, md?: grpc.Metadata): grpc.ClientReadableStream<Msg>
  chat (md?: grpc.Metadata): grpc.ClientDuplexStream<Msg, Msg>
}

export interface GrpcBackend {
  readonly version: string
  readonly url: string
  readonly server: grpc.Server
  calls: number
  close (): Promise<void>
}

function metadataOf (md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(md.getMap())) out[k] = String(v)
  return out
}

/** Starts a version of the service on 127.0.0.1 (cleartext, or TLS with `creds`). */
export async function startGrpcBackend (version: string, opts: { fail?: grpc.status, creds?: grpc.ServerCredentials } = {}): Promise<GrpcBackend> {
  const server = new grpc.Server()
  const b = { version, server, calls: 0, url: '', close: async () => {} } as GrpcBackend
  const failed = (): grpc.ServiceError | null => opts.fail === undefined ? null : Object.assign(new Error(`${version} fails`), { code: opts.fail, details: `${version} fails`, metadata: new grpc.Metadata() })
  server.addService(VersionService, {
    who: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      b.calls++
      const err = failed()
      if (err !== null) cb(err)
      else cb(null, { version, user: call.request.user, metadata: metadataOf(call.metadata) })
    },
    count: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      b.calls++
      for (let i = 0; i < (call.request.n ?? 3); i++) call.write({ version, n: i })
      call.end()
    },
    watch: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      b.calls++
      let n = 0
      const timer = setInterval(() => call.write({ version, n: n++ }), 10)
      call.on('cancelled', () => clearInterval(timer))
      call.on('close', () => clearInterval(timer))
    },
    chat: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      b.calls++
      call.on('data', (m: Msg) => call.write({ version, n: m.n }))
      call.on('end', () => call.end())
    }
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', opts.creds ?? grpc.ServerCredentials.createInsecure(), (err, p) => err === null ? resolve(p) : reject(err))
  })
  const scheme = opts.creds === undefined ? 'http' : 'https'
  return Object.assign(b, {
    url: `${scheme}://127.0.0.1:${port}`,
    close: async () => await new Promise<void>(resolve => server.tryShutdown(() => resolve()))
  })
}

/** A client of switchyard's proxy URL (`http://…` over h2c, `https://…` with `ca`). */
export function grpcClient (proxyUrl: string, ca?: Buffer, serverName?: string): VersionClientT {
  const u = new URL(proxyUrl)
  const creds = u.protocol === 'https:' ? grpc.credentials.createSsl(ca) : grpc.credentials.createInsecure()
  const options = serverName === undefined ? {} : { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName }
  return new VersionClient(u.host, creds, options) as VersionClientT
}

export function metadata (pairs: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata()
  for (const [k, v] of Object.entries(pairs)) md.set(k, v)
  return md
}

export async function unary (client: VersionClientT, m: Msg = {}, md: grpc.Metadata = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<Msg> {
  return await new Promise((resolve, reject) => {
    client.who(m, md, opts, (err, r) => err === null ? resolve(r as Msg) : reject(err))
  })
}

/** The error of a unary call that must fail. */
export async function unaryError (client: VersionClientT, m: Msg = {}, md?: grpc.Metadata, opts?: grpc.CallOptions): Promise<grpc.ServiceError> {
  try {
    await unary(client, m, md, opts)
  } catch (err) {
    return err as grpc.ServiceError
  }
  throw new Error('the call succeeded')
}

export async function collect<T> (stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of stream) out.push(x)
  return out
}

export { grpc }
