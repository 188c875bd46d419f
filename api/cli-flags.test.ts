import { describe, expect, it } from 'vitest'
import { UsageError } from './cli.js'
import { parseFlags } from './cli-flags.js'
import { nearestWord } from './nearest-word.js'

const OPTIONS = {
  server: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  watch: { type: 'boolean', short: 'w' },
  filename: { type: 'string', short: 'f', multiple: true },
} as const

function mistake(args: string[], maxPositionals = 2): string {
  try {
    parseFlags(args, OPTIONS, maxPositionals)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error(`parseFlags accepted ${JSON.stringify(args)}`)
}

describe('parseFlags', () => {
  it('parses flags and positionals in any order', () => {
    const r = parseFlags(['sc', '-n', 'ns', 'name', '-w', '--filename=a', '-f', 'b', '--server', 'http://x'], OPTIONS, 2)
    expect(r.values).toEqual({ namespace: 'ns', watch: true, filename: ['a', 'b'], server: 'http://x' })
    expect(r.positionals).toEqual(['sc', 'name'])
  })

  it.each<[string, string[], string, number?]>([
    ['an unknown long flag', ['--foo'], 'unknown flag --foo'],
    ['a misspelled long flag', ['--namepace', 'x'], 'unknown flag --namepace (did you mean --namespace?)'],
    ['an unknown short flag in a group', ['-wx'], 'unknown flag -x'],
    ['a missing value', ['--server'], 'flag --server needs a value'],
    ['a missing value of a short flag in a group', ['-wn'], 'flag -n needs a value'],
    ['a flag where a value should be', ['-n', '-A'], 'flag -n needs a value (got the flag "-A"; for a value that starts with "-", write --namespace=-A)'],
    ['a value on a boolean', ['--watch=yes'], 'flag --watch takes no value (got "yes")'],
    ['one positional too many', ['a', 'b', 'c'], 'unexpected argument "c"'],
    ['a positional where none is taken', ['x'], 'unexpected argument "x" (this command takes flags only)', 0],
  ])('refuses %s in dpuctl words', (_name, args, message, max) => {
    expect(mistake(args, max)).toBe(message)
  })

  it('never shows node parseArgs text', () => {
    for (const args of [['--foo'], ['--server'], ['-n', '-A'], ['--watch=1'], ['x', 'y', 'z']]) expect(mistake(args)).not.toMatch(/Unknown option|ambiguous|positional argument|-XYZ/)
  })

  it('accepts what looks like a flag after -- and inline values that start with -', () => {
    expect(parseFlags(['--namespace=-x', '--', '--y'], OPTIONS, 1)).toMatchObject({ values: { namespace: '-x' }, positionals: ['--y'] })
  })
})

describe('nearestWord', () => {
  it('suggests a close candidate and nothing for a far or tiny word', () => {
    expect(nearestWord('scc', ['sc', 'si', 'servicechains'])).toBe('sc')
    expect(nearestWord('SERVICECHAIN', ['servicechains', 'serviceinterfaces'])).toBe('servicechains')
    expect(nearestWord('x', ['sc', 'si'])).toBeUndefined()
    expect(nearestWord('widgets', ['sc', 'si', 'dsc'])).toBeUndefined()
    expect(nearestWord('sc', ['sc'])).toBeUndefined()
  })
})
