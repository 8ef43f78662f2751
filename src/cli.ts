#!/usr/bin/env node
/**
 * The `switchyard` command (see src/commands/program.ts for the commands
 * and their exit codes).
 */
import cluster from 'node:cluster'
import { startWorker } from './cluster.js'
import { runProgram } from './commands/program.js'

// A `serve --workers N` worker runs the data plane its primary feeds (src/cluster.ts), whatever its arguments say.
if (cluster.isWorker) await startWorker()
else process.exitCode = await runProgram(process.argv.slice(2))
