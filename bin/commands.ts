/**
 * Every dpuctl command, collected from the part of the product that owns it. Wiring only: add a part's command
 * list here, with the first words of its commands, and nothing else.
 *
 * Each part is imported only when a command line starts with one of its words (help and unknown words load
 * them all): a process holds the modules it runs, so the appliance daemon does not carry the hub, the
 * Kubernetes client, the image builder or the demo (DESIGN.md §8, appliance RSS budget). bin/commands.test.ts
 * holds the word lists to the commands the parts export.
 */
import type { CliCommand, CliCommandSource } from '../api/cli.js'

export interface CommandPart {
  /** The first words of the part's commands. */
  words: readonly string[]
  load(): Promise<readonly CliCommand[]>
}

export const PARTS: readonly CommandPart[] = [
  { words: ['appliance'], load: async () => (await import('./appliance.js')).applianceCommands },
  {
    words: ['apply', 'get', 'describe', 'delete', 'events', 'logs', 'exec', 'restart', 'status', 'flows', 'trace', 'wait', 'version', 'api-resources', 'explain'],
    load: async () => (await import('../appliance/cli/index.js')).applianceClientCommands,
  },
  { words: ['ignition'], load: async () => (await import('../ignition/cli.js')).ignitionCommands },
  { words: ['image', 'bfb'], load: async () => (await import('../image/cli.js')).imageCommands },
  { words: ['hub'], load: async () => (await import('./hub.js')).hubCommands },
  { words: ['certs'], load: async () => (await import('../federation/certs/cli.js')).certsCommands },
  { words: ['demo'], load: async () => (await import('./demo.js')).demoCommands },
]

/** The commands of the parts that own `word`; all of them when `word` is undefined or no part owns it. */
export const COMMANDS: CliCommandSource = async (word) => {
  const owners = PARTS.filter((p) => word !== undefined && p.words.includes(word))
  return (await Promise.all((owners.length > 0 ? owners : PARTS).map((p) => p.load()))).flat()
}
