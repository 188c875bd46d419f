/**
 * Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding) over cbor-x, restricted to the JSON data
 * model: maps with text keys, arrays, text strings, integers, float64, booleans and null.
 *
 * Why a wrapper: cbor-x writes object keys in insertion order (and JS puts integer-like keys first), encodes
 * integers above 2^32 as floats and offers extensions (records, packed strings, tags) that another library
 * would not read. Here every map is re-built with keys in bytewise order of their encoded form (shorter keys
 * first, then lexicographic), large integers go out as CBOR uint64/nint, and decoding rejects every tag and
 * every item outside the subset, so hub and agent hash identical bytes whatever library version they run.
 *
 * XXX: non-integer numbers are always float64 rather than the shortest exact float (RFC 8949 §4.2.2 permits
 * this as an application variant; DPF objects carry no floats today). Encoding stays byte-stable.
 */
import { Decoder, Encoder } from 'cbor-x'
import { ProtocolError } from './errors.js'

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  variableMapSize: true,
  pack: false,
  structuredClone: false,
  tagUint8Array: false,
  bundleStrings: false,
})

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true })

const utf8 = new TextEncoder()

/** RFC 8949 §4.2.1: keys sorted by their encoded bytes; for text keys that is length first, then bytes. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  const ab = utf8.encode(a)
  const bb = utf8.encode(b)
  if (ab.length !== bb.length) return ab.length - bb.length
  return Buffer.compare(ab, bb)
}

function canonical(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ProtocolError(`${path}: non-finite number is not encodable`)
    if (Number.isInteger(value) && Math.abs(value) > 0xffffffff) return BigInt(value)
    return Object.is(value, -0) ? 0 : value
  }
  if (Array.isArray(value)) return value.map((item, i) => canonical(item, `${path}[${i}]`))
  if ((typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) || (typeof value === 'object' && Object.getPrototypeOf(value) === null)) {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareKeys)
    return new Map(keys.map((k) => [k, canonical(obj[k], `${path}.${k}`)]))
  }
  throw new ProtocolError(`${path}: ${describe(value)} is outside the federation CBOR subset`)
}

/** Encodes a JSON-model value as deterministic CBOR. Undefined members are omitted, as in JSON. */
export function encodeCanonical(value: unknown): Buffer {
  return Buffer.from(encoder.encode(canonical(value, '$')))
}

function plain(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ProtocolError(`${path}: integer ${value} is outside the safe range`)
    }
    return Number(value)
  }
  if (Array.isArray(value)) return value.map((item, i) => plain(item, `${path}[${i}]`))
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = plain(v, `${path}.${k}`)
    return out
  }
  throw new ProtocolError(`${path}: ${describe(value)} is outside the federation CBOR subset (tags and extensions are not accepted)`)
}

/** Decodes one CBOR data item that must fill `bytes` exactly and stay inside the JSON data model. */
export function decodeCanonical(bytes: Uint8Array): unknown {
  let raw: unknown
  try {
    raw = decoder.decode(bytes)
  } catch (err) {
    throw new ProtocolError(`malformed CBOR: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return plain(raw, '$')
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object'
  return typeof value
}
