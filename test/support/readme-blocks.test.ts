import { describe, expect, it } from 'vitest'
import { shellBlocksOf } from './readme-blocks.js'

const md = [
  '# title', // 1
  '## Other', // 2
  '```sh', // 3
  'not me', // 4
  '```', // 5
  '## A tour', // 6
  'Prose.', // 7
  '```sh', // 8
  '# a comment line', // 9
  'dpuctl apply -f x.yaml   # trailing comment', // 10
  '', // 11
  'dpuctl get sc', // 12
  '```', // 13
  '```yaml', // 14
  'kind: ignored', // 15
  '```', // 16
  '```sh', // 17
  'dpuctl status', // 18
  '```', // 19
  '## Next', // 20
  '```sh', // 21
  'not me either', // 22
  '```', // 23
].join('\n')

describe('shellBlocksOf', () => {
  it('takes only the sh blocks of the section, command lines only', () => {
    expect(shellBlocksOf(md, 'A tour')).toEqual([
      { line: 8, commands: ['dpuctl apply -f x.yaml   # trailing comment', 'dpuctl get sc'] },
      { line: 17, commands: ['dpuctl status'] },
    ])
  })

  it('refuses a missing section, continuation lines and an open fence', () => {
    expect(() => shellBlocksOf(md, 'Missing')).toThrow(/no "## Missing" section/)
    expect(() => shellBlocksOf('## T\n```sh\na \\\n  b\n```', 'T')).toThrow(/one line/)
    expect(() => shellBlocksOf('## T\n```sh\na', 'T')).toThrow(/unterminated/)
  })
})
