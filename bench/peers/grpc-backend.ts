/**
 * A @grpc/grpc-js service for the gRPC benchmark: one unary method answering
 * a small JSON message (no .proto: the messages serialise themselves).
 * env: PORT
 */
import * as grpc from '@grpc/grpc-js'
import { HOST, requiredPort } from './env.js'

export const UNARY: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/bench.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b
}

if (process.env.PORT !== undefined) {
  const server = new grpc.Server()
  const reply = Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(64) }))
  server.addService({ unary: UNARY }, { unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, reply) })
  server.bindAsync(`${HOST}:${requiredPort()}`, grpc.ServerCredentials.createInsecure(), err => { if (err !== null) throw err })
}
