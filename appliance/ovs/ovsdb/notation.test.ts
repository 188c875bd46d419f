import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OvsdbNotationError } from './errors.js'
import { applyDatumDiff, datumEquals, decodeDatum, encodeDatum, encodeUntyped, namedUuid, NamedUuid, uuid } from './notation.js'
import { buildColumnType } from './schema.js'

interface Vector {
  name: string
  type: unknown
  decoded: never
  wire: unknown
  decodeOnly?: boolean
  encodeOnly?: boolean
}
const golden = JSON.parse(readFileSync(new URL('./testdata/notation.json', import.meta.url), 'utf8')) as { vectors: Vector[] }

// A decode-only vector is a wire form we accept but never send (a bare atom for a one-element set); an
// encode-only one is the reverse. Each vector gets exactly the cases that apply to it.
describe('golden vectors: encode', () => {
  it.each(golden.vectors.filter((v) => !v.decodeOnly))('$name encodes to the reference JSON', ({ type, decoded, wire }) => {
    expect(encodeDatum(decoded, buildColumnType(type))).toEqual(wire)
  })
})
describe('golden vectors: decode', () => {
  it.each(golden.vectors.filter((v) => !v.encodeOnly))('$name decodes the reference JSON', ({ type, decoded, wire }) => {
    expect(decodeDatum(wire, buildColumnType(type))).toEqual(decoded)
  })
})

describe('notation edges', () => {
  const uuidSet = buildColumnType({ key: { type: 'uuid' }, min: 0, max: 'unlimited' })
  const stringMap = buildColumnType({ key: 'string', value: 'string', min: 0, max: 'unlimited' })

  it('rejects a named-uuid that is not an identifier (the server answers "syntax error")', () => {
    expect(() => namedUuid('row-1')).toThrow(OvsdbNotationError)
    expect(() => encodeDatum(['bad-name'], uuidSet)).toThrow(OvsdbNotationError)
  })

  it('rejects atoms of the wrong type with a typed error', () => {
    expect(() => decodeDatum('x', buildColumnType('integer'))).toThrow(OvsdbNotationError)
    expect(() => decodeDatum(['set', [1, 2]], buildColumnType({ key: 'integer', min: 0, max: 1 }))).toThrow(/at most one/)
    expect(() => decodeDatum(['set', ['a']], stringMap)).toThrow(/expected \["map"/)
  })

  it('encodes NamedUuid/Uuid references and Set/Map inputs', () => {
    expect(encodeDatum([namedUuid('row_2'), uuid('0a0b0c0d-0000-4000-8000-000000000001')], uuidSet)).toEqual([
      'set',
      [
        ['named-uuid', 'row_2'],
        ['uuid', '0a0b0c0d-0000-4000-8000-000000000001'],
      ],
    ])
    expect(encodeDatum(new Map([['a', 'b']]), stringMap)).toEqual(['map', [['a', 'b']]])
  })

  it('encodes schema-less values: arrays are sets, objects are maps', () => {
    expect(encodeUntyped([])).toEqual(['set', []])
    expect(encodeUntyped({ k: 'v' })).toEqual(['map', [['k', 'v']]])
    expect(encodeUntyped(new NamedUuid('row_1'))).toEqual(['named-uuid', 'row_1'])
    expect(encodeUntyped(null)).toEqual(['set', []])
    expect(encodeUntyped(5)).toBe(5)
  })

  it('compares sets as sets and maps by key', () => {
    expect(datumEquals(['a', 'b'], ['b', 'a'])).toBe(true)
    expect(datumEquals(['a', 'b'], ['a'])).toBe(false)
    expect(datumEquals({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true)
    expect(datumEquals({ a: '1' }, { a: '2' })).toBe(false)
    expect(datumEquals(null, [])).toBe(false)
  })
})

describe('update2 modify diffs (ovsdb-server(7) §4.1.14)', () => {
  const uuidSet = buildColumnType({ key: { type: 'uuid' }, min: 0, max: 'unlimited' })
  const stringMap = buildColumnType({ key: 'string', value: 'string', min: 0, max: 'unlimited' })
  const u = (n: number): string => `0a0b0c0d-0000-4000-8000-00000000000${n}`

  it('takes the symmetric difference for sets', () => {
    const diff = [
      'set',
      [
        ['uuid', u(1)],
        ['uuid', u(3)],
      ],
    ]
    expect(applyDatumDiff([u(1), u(2)], diff, uuidSet)).toEqual([u(2), u(3)])
  })

  it('accepts a one-element diff as a bare atom', () => {
    expect(applyDatumDiff([u(1)], ['uuid', u(2)], uuidSet)).toEqual([u(1), u(2)])
    expect(applyDatumDiff([u(1), u(2)], ['uuid', u(2)], uuidSet)).toEqual([u(1)])
  })

  it('adds, removes and changes map keys', () => {
    const old = { keep: '1', drop: '2', change: '3' }
    // "drop" carries its old value (removal), "change" a new value, "add" is new.
    const diff = [
      'map',
      [
        ['drop', '2'],
        ['change', '30'],
        ['add', '4'],
      ],
    ]
    expect(applyDatumDiff(old, diff, stringMap)).toEqual({ keep: '1', change: '30', add: '4' })
  })

  it('replaces scalars and optionals (not composite: max 1)', () => {
    expect(applyDatumDiff(5, 6, buildColumnType('integer'))).toBe(6)
    const optional = buildColumnType({ key: 'integer', min: 0, max: 1 })
    expect(applyDatumDiff(null, 3, optional)).toBe(3)
    expect(applyDatumDiff(3, ['set', []], optional)).toBeNull()
  })
})
