#!/usr/bin/env node
/**
 * The `switchyard` command (see src/commands/program.ts for the commands
 * and their exit codes).
 */
import cluster from 'node:cluster'
import { createSwitchyard } from './app/switchyard.js'
import { runProgram } from './commands/program.js'

// A `serve --workers N` worker runs the data plane its primary feeds (src/app/switchyard.ts), whatever its arguments say.
if (cluster.isWorker) await createSwitchyard({ role: 'worker' })
else process.exitCode = await runProgram(process.argv.slice(2))
