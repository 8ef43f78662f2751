/**
 * Peer: bare fastify 5 + @fastify/http-proxy 11, no routing. reply-from's
 * defaults apply (undici Agent, 128 connections, pipelining 1, keep-alive);
 * logger off, as a production proxy would run. This is the yardstick of
 * issue 6's primary goal (switchyard ≥ 1.5× its throughput).
 * env: PORT, UPSTREAM
 */
import Fastify from 'fastify'
import httpProxy from '@fastify/http-proxy'
import { HOST, requiredPort, requiredUpstream } from './env.js'

const port = requiredPort()
const app = Fastify({ logger: false })
await app.register(httpProxy, { upstream: requiredUpstream() })
await app.listen({ port, host: HOST })

process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
