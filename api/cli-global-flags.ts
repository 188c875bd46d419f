/**
 * Client flags kubectl users write before the command (`dpuctl --server URL -n ns get sc`). They are taken off
 * the front so the command words can be found, then handed to the command with its own arguments: every client
 * command declares them, so each one still parses, checks and documents them in one place.
 */
import { UsageError } from './cli.js'

/** Long name -> short name (if any) of each flag that may come before the command. All take a value. */
const GLOBAL_FLAGS: Readonly<Record<string, string | undefined>> = { server: undefined, 'token-file': undefined, namespace: 'n' }
const BY_SHORT = new Map(Object.entries(GLOBAL_FLAGS).flatMap(([long, short]) => (short ? [[short, long] as const] : [])))

/** The flag names a user may put before the command, for help text. */
export const GLOBAL_FLAG_NAMES = Object.entries(GLOBAL_FLAGS).map(([long, short]) => (short ? `-${short}/--${long}` : `--${long}`))

/** `--server`, `--server=URL`, `-n`, `-nNS` -> the long name and the inline value, if it is a global flag. */
function globalFlag(arg: string): { name: string; inline: string | undefined } | undefined {
  const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg)
  if (long) return long[1]! in GLOBAL_FLAGS ? { name: long[1]!, inline: long[2] } : undefined
  const short = /^-([^-])(.*)$/s.exec(arg)
  const name = short ? BY_SHORT.get(short[1]!) : undefined
  return name ? { name, inline: short![2] || undefined } : undefined
}

/**
 * Splits the global flags off the front of `argv`: `leading` are those flags (with their values, as written),
 * `rest` starts at the first word that is not one (a command word, `--help`, or a flag the caller reports).
 * @example splitGlobalFlags(['--server', 'u', 'get', 'sc']) // { leading: ['--server', 'u'], rest: ['get', 'sc'] }
 */
export function splitGlobalFlags(argv: readonly string[]): { leading: string[]; rest: string[] } {
  let i = 0
  while (i < argv.length) {
    const flag = globalFlag(argv[i]!)
    if (!flag) break
    if (flag.inline !== undefined) {
      i += 1
      continue
    }
    const value = argv[i + 1]
    if (value === undefined || (value.length > 1 && value.startsWith('-'))) throw new UsageError(`flag ${argv[i]} needs a value`)
    i += 2
  }
  return { leading: argv.slice(0, i), rest: argv.slice(i) }
}
