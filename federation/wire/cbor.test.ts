import { describe, expect, it } from 'vitest'
import { compareKeys, decodeCanonical, encodeCanonical } from './cbor.js'

// RFC 8949 Appendix A examples for the subset we use.
const RFC_EXAMPLES: Array<[unknown, string]> = [
  [0, '00'],
  [23, '17'],
  [24, '1818'],
  [1000, '1903e8'],
  [1000000, '1a000f4240'],
  [1000000000000, '1b000000e8d4a51000'],
  [-1, '20'],
  [-1000, '3903e7'],
  [1.1, 'fb3ff199999999999a'],
  [false, 'f4'],
  [true, 'f5'],
  [null, 'f6'],
  ['', '60'],
  ['IETF', '6449455446'],
  ['\u00fc', '62c3bc'],
  [[], '80'],
  [[1, [2, 3], [4, 5]], '8301820203820405'],
  [{}, 'a0'],
  [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
  [{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
]

describe('deterministic CBOR', () => {
  it.each(RFC_EXAMPLES)('encodes %j as RFC 8949 Appendix A does', (value, hex) => {
    expect(encodeCanonical(value).toString('hex')).toBe(hex)
    expect(decodeCanonical(Buffer.from(hex, 'hex'))).toEqual(value)
  })

  it('orders map keys by encoded length, then bytes, whatever the insertion order', () => {
    const a = encodeCanonical({ zone: 1, b: 2, '10': 3, aa: 4 })
    const b = encodeCanonical({ aa: 4, '10': 3, zone: 1, b: 2 })
    expect(a.equals(b)).toBe(true)
    // b (1 byte) < "10" (2 bytes, 0x31 0x30) < aa (0x61 0x61) < zone
    expect(a.toString('hex')).toBe('a461620262313003626161046' + '47a6f6e6501')
    expect(['zone', 'b', 'aa', '10'].sort(compareKeys)).toEqual(['b', '10', 'aa', 'zone'])
  })

  it('omits undefined members and encodes -0 as 0', () => {
    expect(encodeCanonical({ a: undefined, b: -0 }).toString('hex')).toBe('a1616200')
  })

  it('refuses values outside the JSON data model', () => {
    expect(() => encodeCanonical(new Date(0))).toThrow(/outside the federation CBOR subset/)
    expect(() => encodeCanonical({ x: Number.NaN })).toThrow(/non-finite/)
  })

  it('rejects tags, truncated items and trailing bytes', () => {
    expect(() => decodeCanonical(Buffer.from('c11a514b67b0', 'hex'))).toThrow(/outside the federation CBOR subset/)
    expect(() => decodeCanonical(Buffer.from('a16161', 'hex'))).toThrow(/malformed CBOR/)
    expect(() => decodeCanonical(Buffer.from('a1616101ff', 'hex'))).toThrow(/malformed CBOR/)
    expect(() => decodeCanonical(Buffer.from('ff', 'hex'))).toThrow(/malformed CBOR/)
  })

  it('is byte-stable across runs for nested objects', () => {
    const obj = { spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }] }] }, metadata: { name: 'c' } }
    const first = encodeCanonical(obj)
    for (let i = 0; i < 5; i++) expect(encodeCanonical(structuredClone(obj)).equals(first)).toBe(true)
  })
})
