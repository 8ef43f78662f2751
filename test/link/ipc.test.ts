/**
 * The plane link contract (link.case.ts) against two node:cluster workers
 * running the real worker entry (the built CLI, which runs a data plane
 * when it is a cluster worker), as `serve --workers 2` does.
 */
import t from 'tap'
import cluster from 'node:cluster'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { IpcLink } from '../../src/link/ipc.js'
import { linkSuite } from './link.case.js'

const exec = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
// The workers run dist/ JavaScript, as `serve --workers` starts them: without the TypeScript hooks this test
// process runs under (tap's TypeScript plugin loads ts-node in every child given its flags: ~1.7 s of CPU each).
cluster.setupPrimary({ execArgv: process.execArgv.filter(a => !/@tapjs\/typescript|ts-loader/.test(a)) })

linkSuite(t, () => new IpcLink({ workers: 2, logger: pino({ level: 'silent' }), exec }))
