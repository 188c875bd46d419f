import { describe, expect, it } from 'vitest'
import { splitGlobalFlags } from './cli-global-flags.js'

describe('splitGlobalFlags', () => {
  it.each<[string[], string[], string[]]>([
    [
      ['--server', 'http://x', '--token-file', 't', 'get', 'sc'],
      ['--server', 'http://x', '--token-file', 't'],
      ['get', 'sc'],
    ],
    [
      ['--server=http://x', '-n', 'ns', 'get', 'sc', '-o', 'wide'],
      ['--server=http://x', '-n', 'ns'],
      ['get', 'sc', '-o', 'wide'],
    ],
    [['-nns', '--namespace=a', 'describe'], ['-nns', '--namespace=a'], ['describe']],
    [['get', '--server', 'u'], [], ['get', '--server', 'u']],
    [['--server', 'u', '--help'], ['--server', 'u'], ['--help']],
    [['--bogus', 'get'], [], ['--bogus', 'get']],
  ])('%j', (argv, leading, rest) => {
    expect(splitGlobalFlags(argv)).toEqual({ leading, rest })
  })

  it('refuses a global flag without its value', () => {
    expect(() => splitGlobalFlags(['--server'])).toThrow('flag --server needs a value')
    expect(() => splitGlobalFlags(['-n', '--server', 'u', 'get'])).toThrow('flag -n needs a value')
  })
})
