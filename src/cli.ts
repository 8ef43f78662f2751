#!/usr/bin/env node
/**
 * The `switchyard` command. Each subcommand lives in src/commands/; this file
 * only wires them to commander.
 */
import { Command } from 'commander'
import { serveCommand } from './commands/serve.js'
import { testpageCommand } from './commands/testpage.js'
import { validateCommand } from './commands/validate.js'

const program = new Command()
program
  .name('switchyard')
  .description('Traffic-splitting reverse proxy for canary, blue/green and A/B releases')
  .version('0.1.0')
  .showHelpAfterError()

program.command('serve')
  .description('run the proxy on a config file (hot-reloaded on change and on SIGHUP)')
  .option('-c, --config <file>', 'config file (YAML or JSON); default $SWITCHYARD_CONFIG or config/switchyard.yaml')
  .option('--demo', 'also start a demo "testpage" backend on every local target of the config')
  .action(async (opts: { config?: string, demo?: boolean }) => {
    process.exitCode = await serveCommand(opts)
  })

program.command('validate')
  .description('check a config file without serving it (like nginx -t); exit 0 when valid')
  .argument('<file>', 'config file (YAML or JSON)')
  .option('--json', 'machine-readable output')
  .action(async (file: string, opts: { json?: boolean }) => {
    process.exitCode = await validateCommand(file, opts)
  })

program.command('testpage')
  .description('run the demo backend alone: answers "I am: <addr>, the version is: <version>"')
  .argument('<version>', 'the version it reports')
  .option('--host <host>', 'address to bind and report', '0.0.0.0')
  .option('--port <port>', 'port to bind (0: any free port)', '8080')
  .action(async (version: string, opts: { host?: string, port?: string }) => {
    process.exitCode = await testpageCommand(version, opts)
  })

await program.parseAsync(process.argv)
