import { writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { SETTINGS, type Setting, type SettingTopic } from '../config.js'

/** docs/configuration.md at the repository root, seen from the build in dist/src/docs/. */
export const CONFIGURATION_DOC = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url))

const HEADER = `# Configuration

<!-- Written by \`npm run docs:config\` from the list of settings in src/config.ts: change the list, not this file. -->

Gatehouse reads its settings from environment variables. A setting it cannot
use stops it at start with one line that names the setting, for example
\`gatehouse: PORT: "80a" is not a port number (0-65535)\`.

The command line (\`gatehouse …\`, see [the command line](cli.md)) reads the
same variables as the server.
`

/** A Markdown table with its columns padded the way Prettier writes them, so the file passes its check as generated. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((cell, i) => Math.max(3, cell.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  return [line(head), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')
}

export function configurationDoc(settings: readonly Setting[] = SETTINGS): string {
  const topics = [...new Set(settings.map((setting) => setting.topic))] satisfies SettingTopic[]
  const sections = topics.map((topic) => {
    const rows = settings.filter((setting) => setting.topic === topic).map((setting) => [`\`${setting.name}\``, setting.default, setting.meaning])
    return `## ${topic}\n\n${table(['Variable', 'Default', 'Meaning'], rows)}\n`
  })
  return [HEADER, ...sections].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIGURATION_DOC, configurationDoc())
  process.stdout.write(`wrote ${CONFIGURATION_DOC}\n`)
}
