#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ConfigError } from '../config.js'
import { Refusal } from '../messages.js'
import { adminTokenCommands } from './admin-tokens.js'
import { clientCommands } from './clients.js'
import { UsageError, type Command, type Commands, type Values } from './command.js'
import { invitationCommands } from './invitations.js'
import { keyCommands } from './keys.js'
import { migrateCommand } from './migrate.js'
import { registrationTokenCommands } from './registration-tokens.js'
import { resourceCommands } from './resources.js'
import { trustedIssuerCommands } from './trusted-issuers.js'
import { serveCommand } from './serve.js'
import { teamCommands } from './teams.js'
import { tokenCommands } from './tokens.js'
import { userCommands } from './users.js'

const commands: Commands = {
  ...serveCommand,
  ...migrateCommand,
  ...userCommands,
  ...teamCommands,
  ...invitationCommands,
  ...clientCommands,
  ...resourceCommands,
  ...trustedIssuerCommands,
  ...registrationTokenCommands,
  ...keyCommands,
  ...tokenCommands,
  ...adminTokenCommands,
}

function help(): string {
  return ['Usage:', ...Object.values(commands).map((c) => `  ${c.usage}`)].join('\n')
}

/** `gatehouse <command> --help`: the usage line and every option. */
function commandHelp(command: Command): string {
  const lines = Object.entries(command.options).map(([name, option]) => {
    const flag = `--${name}${option.type === 'string' ? ' VALUE' : ''}`
    return `  ${flag.padEnd(34)} ${command.describe?.[name] ?? ''}`.trimEnd()
  })
  return [`Usage: ${command.usage}`, '', 'Options:', ...lines, `  ${'--help'.padEnd(34)} print this help`].join('\n')
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`
  if (commands[two]) return { command: commands[two], rest: argv.slice(2) }
  const one = argv[0]
  if (one !== undefined && commands[one]) return { command: commands[one], rest: argv.slice(1) }
  return undefined
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(help() + '\n')
    return argv.length === 0 ? 2 : 0
  }
  const found = findCommand(argv)
  try {
    if (!found) throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`)
    if (found.rest.includes('--help')) {
      process.stdout.write(commandHelp(found.command) + '\n')
      return 0
    }
    let values: Values
    try {
      values = parseArgs({ args: found.rest, options: found.command.options, strict: true, allowPositionals: false }).values as Values
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    await found.command.run(values)
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gatehouse: ${err.message}\n${found ? `Usage: ${found.command.usage}` : help()}\n`)
      return 2
    }
    if (err instanceof Refusal || err instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${(err as Error).message ?? String(err)}\n`)
    process.exit(1)
  },
)
