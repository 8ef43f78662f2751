/**
 * gRPC unary calls per second from one @grpc/grpc-js client (one HTTP/2
 * connection, CONCURRENCY calls in flight) to TARGET (host:port, cleartext),
 * for DURATION seconds after a 1 s warm-up. Prints one JSON line.
 * env: TARGET, DURATION=10, CONCURRENCY=50
 */
import * as grpc from '@grpc/grpc-js'
import { UNARY } from './peers/grpc-backend.js'

const target = process.env.TARGET ?? ''
if (target === '') throw new Error('TARGET is required, e.g. 127.0.0.1:18100')
const durationMs = Number(process.env.DURATION ?? 10) * 1000
const concurrency = Number(process.env.CONCURRENCY ?? 50)
const Client = grpc.makeGenericClientConstructor({ unary: UNARY }, 'Echo')
const client = new Client(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { unary (m: Buffer, cb: (err: grpc.ServiceError | null) => void): void }
const request = Buffer.from('{"q":1}')

let counting = false
let ok = 0
let failed = 0
const latencies: number[] = []
let stop = false

async function worker (): Promise<void> {
  while (!stop) {
    const t0 = performance.now()
    const err = await new Promise<grpc.ServiceError | null>(resolve => client.unary(request, resolve))
    if (!counting) continue
    if (err === null) { ok++; latencies.push(performance.now() - t0) } else failed++
  }
}

const workers = Array.from({ length: concurrency }, async () => await worker())
await new Promise(resolve => setTimeout(resolve, 1000))
counting = true
const start = performance.now()
await new Promise(resolve => setTimeout(resolve, durationMs))
counting = false
const seconds = (performance.now() - start) / 1000
stop = true
await Promise.all(workers)
client.close()
latencies.sort((a, b) => a - b)
const pct = (p: number): number => Number((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2))
process.stdout.write(JSON.stringify({ target, callsPerSecond: Math.round(ok / seconds), failed, p50ms: pct(0.5), p99ms: pct(0.99) }) + '\n')
