/** Flag parsing shared by the appliance commands: node's parseArgs, with its errors turned into usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../../api/cli.js'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

export function parseFlags<O extends OptionSpec>(args: string[], options: O, maxPositionals = Infinity) {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true })
    if (r.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${r.positionals[maxPositionals]}"`)
    return r
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError((err as Error).message)
  }
}
