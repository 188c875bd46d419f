import { describe, expect, it } from 'vitest'
import { jsonErrorOffset, lineColumn } from './json-error-position.js'

describe('jsonErrorOffset', () => {
  it.each(['{}', '[]', '"x"', '0', '-1.5e+3', 'true', ' null ', '{"a": [1, {"b": "\\u00e9\\n"}], "c": false}'])('accepts %s', (t) => {
    expect(() => JSON.parse(t)).not.toThrow()
    expect(jsonErrorOffset(t)).toBe(-1)
  })
  it.each<[string, number]>([
    ['', 0],
    ['{', 1],
    ['{"a" 1}', 5],
    ['{"a": }', 6],
    ['[1,]', 3],
    ['[01]', 2],
    ["{'a': 1}", 1],
    ['"\u0001"', 1],
    ['"\\u12g4"', 3],
    ['{} {}', 3],
    ['tru', 0],
  ])('finds the error in %j at %i', (t, offset) => {
    expect(() => JSON.parse(t)).toThrow()
    expect(jsonErrorOffset(t)).toBe(offset)
  })
})

describe('lineColumn', () => {
  it('counts 1-based lines and columns', () => {
    expect(lineColumn('ab\ncd\n', 0)).toEqual({ line: 1, column: 1 })
    expect(lineColumn('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 })
    expect(lineColumn('ab\ncd\n', 6)).toEqual({ line: 3, column: 1 })
  })
})
