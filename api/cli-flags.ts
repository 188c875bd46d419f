/**
 * The one flag parser of dpuctl: node's `parseArgs` for the values, with every mistake answered as a `UsageError`
 * in dpuctl's words (`unknown flag --foo`, `flag -n needs a value`) rather than node's own text. The dispatcher
 * prints the message after `dpuctl <command>:` and the command's usage, and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './cli.js'
import { nearestWord } from './nearest-word.js'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

/** The first mistake in `args`, in dpuctl's words; undefined when node's strict parse will accept them. */
function findMistake(args: readonly string[], options: OptionSpec, maxPositionals: number): string | undefined {
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true })
  const longNames = Object.keys(options)
  let positionals = 0
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals++
      if (positionals > maxPositionals) return maxPositionals === 0 ? `unexpected argument "${t.value}" (this command takes flags only)` : `unexpected argument "${t.value}"`
      continue
    }
    if (t.kind !== 'option') continue
    const spec = options[t.name]
    if (spec === undefined) {
      const near = t.rawName.startsWith('--') ? nearestWord(t.name, longNames) : undefined
      return `unknown flag ${t.rawName}${near ? ` (did you mean --${near}?)` : ''}`
    }
    if (spec.type === 'boolean' && t.inlineValue) return `flag ${t.rawName} takes no value (got "${t.value}")`
    if (spec.type === 'string' && t.value === undefined) return `flag ${t.rawName} needs a value`
    // node reads `-n -A` as namespace "-A"; that is almost always a forgotten value, so it refuses, as we do.
    if (spec.type === 'string' && !t.inlineValue && t.value !== undefined && t.value.length > 1 && t.value.startsWith('-')) {
      return `flag ${t.rawName} needs a value (got the flag "${t.value}"; for a value that starts with "-", write --${t.name}=${t.value})`
    }
  }
  return undefined
}

/**
 * Parses `args` against `options` (node `parseArgs` shapes), allowing at most `maxPositionals` arguments.
 * Throws `UsageError` naming the flag or argument that is wrong.
 * @example const { values, positionals } = parseFlags(args, { output: { type: 'string', short: 'o' } }, 1)
 */
export function parseFlags<O extends OptionSpec>(args: string[], options: O, maxPositionals = Infinity) {
  const mistake = findMistake(args, options, maxPositionals)
  if (mistake !== undefined) throw new UsageError(mistake)
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    // Only what findMistake does not foresee reaches here; still a usage error, in node's words.
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}
