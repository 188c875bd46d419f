/**
 * RFC 7047 §5.1 value notation, both ways, driven by the column type:
 *
 *   kind      in memory                         on the wire
 *   scalar    atom                              atom
 *   optional  atom | null                       atom, or ["set",[]]
 *   set       atom[]                            ["set",[...]], or a bare atom for one element
 *   map       Record<string, atom>              ["map",[[k,v],...]]
 *
 * uuid atoms are plain strings in memory; on encode a string that is not UUID-shaped in a uuid position becomes a
 * `named-uuid` (a forward reference inside one transaction). Map keys are strings in memory (integer keys are
 * converted back on encode). OVS sends one-element sets as bare atoms (observed), so decode accepts both forms.
 */
import { OvsdbNotationError } from './errors.js'
import type { AtomicType, BaseType, ColumnType } from './schema.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type Atom = string | number | boolean
export type Datum = Atom | null | Atom[] | Record<string, Atom>

/** A reference to a row by UUID, for schema-less encoding. */
export class Uuid {
  constructor(readonly value: string) {}
  toJSON(): Json {
    return ['uuid', this.value]
  }
}

/** A reference to a row inserted earlier or later in the same transaction (`uuid-name`). */
export class NamedUuid {
  constructor(readonly name: string) {
    if (!NAMED_UUID.test(name)) throw new OvsdbNotationError(`named-uuid ${JSON.stringify(name)} is not an identifier [a-zA-Z_][a-zA-Z0-9_]*`)
  }
  toJSON(): Json {
    return ['named-uuid', this.name]
  }
}

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
export const NAMED_UUID = /^[a-zA-Z_][a-zA-Z0-9_]*$/
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

export const uuid = (value: string): Uuid => new Uuid(value)
export const namedUuid = (name: string): NamedUuid => new NamedUuid(name)

/** Values the encoder accepts: in-memory data plus explicit references. */
export type EncodableAtom = Atom | Uuid | NamedUuid
export type EncodableDatum = EncodableAtom | null | readonly EncodableAtom[] | ReadonlySet<EncodableAtom> | Readonly<Record<string, EncodableAtom>> | ReadonlyMap<EncodableAtom, EncodableAtom>

const ATOM_DEFAULTS: Record<AtomicType, Atom> = { integer: 0, real: 0, boolean: false, string: '', uuid: ZERO_UUID }

function isTagged(json: unknown, tag: string): json is [string, unknown] {
  return Array.isArray(json) && json.length === 2 && json[0] === tag
}

/** Decode one atom of a known base type. */
export function decodeAtom(json: unknown, base: BaseType): Atom {
  switch (base.type) {
    case 'uuid':
      if (isTagged(json, 'uuid') && typeof json[1] === 'string') return json[1]
      break
    case 'string':
      if (typeof json === 'string') return json
      break
    case 'integer':
      if (typeof json === 'number' && Number.isInteger(json)) return json
      break
    case 'real':
      if (typeof json === 'number') return json
      break
    case 'boolean':
      if (typeof json === 'boolean') return json
      break
  }
  throw new OvsdbNotationError(`expected a ${base.type} atom, got ${JSON.stringify(json)?.slice(0, 100)}`)
}

/** Encode one atom of a known base type. */
export function encodeAtom(value: EncodableAtom, base: BaseType): Json {
  if (value instanceof NamedUuid || value instanceof Uuid) {
    if (base.type !== 'uuid') throw new OvsdbNotationError(`a row reference cannot go into a ${base.type} column`)
    return value.toJSON()
  }
  switch (base.type) {
    case 'uuid':
      if (typeof value === 'string') return UUID_PATTERN.test(value) ? ['uuid', value] : new NamedUuid(value).toJSON()
      break
    case 'string':
      if (typeof value === 'string') return value
      break
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value
      // Map keys come back as strings in memory.
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value)
      break
    case 'real':
      if (typeof value === 'number') return value
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
      break
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === 'false') return value === 'true'
      break
  }
  throw new OvsdbNotationError(`${JSON.stringify(value)} is not a ${base.type} atom`)
}

/** The elements of a set on the wire; a bare atom is a one-element set. */
function wireSetItems(json: unknown): unknown[] {
  if (isTagged(json, 'set')) {
    if (!Array.isArray(json[1])) throw new OvsdbNotationError(`malformed set ${JSON.stringify(json).slice(0, 100)}`)
    return json[1]
  }
  return [json]
}

function wireMapEntries(json: unknown): [unknown, unknown][] {
  if (!isTagged(json, 'map') || !Array.isArray(json[1])) throw new OvsdbNotationError(`expected ["map",[...]], got ${JSON.stringify(json)?.slice(0, 100)}`)
  return json[1].map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new OvsdbNotationError(`malformed map pair ${JSON.stringify(pair)}`)
    return [pair[0], pair[1]]
  })
}

/** Decode a value of the given column type into its in-memory form. */
export function decodeDatum(json: unknown, type: ColumnType): Datum {
  switch (type.kind) {
    case 'scalar':
      // A scalar is a set of exactly one, so `["set",[x]]` is legal too.
      if (isTagged(json, 'set')) {
        const items = wireSetItems(json)
        if (items.length !== 1) throw new OvsdbNotationError(`expected one ${type.key.type}, got a set of ${items.length}`)
        return decodeAtom(items[0], type.key)
      }
      return decodeAtom(json, type.key)
    case 'optional': {
      const items = wireSetItems(json)
      if (items.length > 1) throw new OvsdbNotationError(`expected at most one ${type.key.type}, got ${items.length}`)
      return items.length === 0 ? null : decodeAtom(items[0], type.key)
    }
    case 'set':
      return wireSetItems(json).map((item) => decodeAtom(item, type.key))
    case 'map': {
      const out: Record<string, Atom> = {}
      for (const [k, v] of wireMapEntries(json)) out[String(decodeAtom(k, type.key))] = decodeAtom(v, type.value!)
      return out
    }
  }
}

function mapEntries(value: EncodableDatum): [EncodableAtom, EncodableAtom][] {
  if (value instanceof Map) return [...value.entries()]
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set) && !(value instanceof Uuid) && !(value instanceof NamedUuid)) {
    return Object.entries(value as Record<string, EncodableAtom>)
  }
  throw new OvsdbNotationError(`expected a map (object or Map), got ${JSON.stringify(value)?.slice(0, 100)}`)
}

function setItems(value: EncodableDatum): EncodableAtom[] {
  if (Array.isArray(value)) return value as EncodableAtom[]
  if (value instanceof Set) return [...(value as ReadonlySet<EncodableAtom>)]
  if (value === null) return []
  if (typeof value === 'object' && !(value instanceof Uuid) && !(value instanceof NamedUuid)) {
    throw new OvsdbNotationError(`expected a set (array), got ${JSON.stringify(value).slice(0, 100)}`)
  }
  return [value as EncodableAtom]
}

/** Encode an in-memory value of the given column type; sets and maps always use the tagged form. */
export function encodeDatum(value: EncodableDatum, type: ColumnType): Json {
  switch (type.kind) {
    case 'scalar':
      if (Array.isArray(value) || value === null || (typeof value === 'object' && !(value instanceof Uuid) && !(value instanceof NamedUuid))) {
        throw new OvsdbNotationError(`expected one ${type.key.type}, got ${JSON.stringify(value)?.slice(0, 100)}`)
      }
      return encodeAtom(value as EncodableAtom, type.key)
    case 'optional':
    case 'set':
      return ['set', setItems(value).map((item) => encodeAtom(item, type.key))]
    case 'map':
      return ['map', mapEntries(value).map(([k, v]) => [encodeAtom(k, type.key), encodeAtom(v, type.value!)])]
  }
}

/** The value a column holds when a row update omits it (initial/insert rows leave default-valued columns out). */
export function defaultDatum(type: ColumnType): Datum {
  switch (type.kind) {
    case 'scalar':
      return ATOM_DEFAULTS[type.key.type]
    case 'optional':
      return null
    case 'set':
      return type.min > 0 ? Array.from({ length: type.min }, () => ATOM_DEFAULTS[type.key.type]) : []
    case 'map':
      return {}
  }
}

/**
 * Apply an `update2` "modify" diff to a column value (ovsdb-server(7) §4.1.14): sets take the symmetric
 * difference, maps add new keys, drop keys whose diff value equals the old value, and replace the others;
 * scalars and optionals (max 1, not composite) carry the new value itself.
 */
export function applyDatumDiff(old: Datum, diffJson: unknown, type: ColumnType): Datum {
  const diff = decodeDatum(diffJson, type)
  if (type.kind === 'set') {
    const result = new Set(old as Atom[])
    for (const item of diff as Atom[]) {
      if (result.has(item)) result.delete(item)
      else result.add(item)
    }
    return [...result]
  }
  if (type.kind === 'map') {
    const result: Record<string, Atom> = { ...(old as Record<string, Atom>) }
    for (const [k, v] of Object.entries(diff as Record<string, Atom>)) {
      if (!(k in result)) result[k] = v
      else if (result[k] === v) delete result[k]
      else result[k] = v
    }
    return result
  }
  return diff
}

/** Schema-less encoding for values whose column type is unknown: arrays are sets, plain objects/Maps are maps. */
export function encodeUntyped(value: EncodableDatum): Json {
  if (value instanceof Uuid || value instanceof NamedUuid) return value.toJSON()
  if (value === null) return ['set', []]
  if (Array.isArray(value) || value instanceof Set) return ['set', setItems(value).map((item) => encodeUntyped(item))]
  if (typeof value === 'object') return ['map', mapEntries(value).map(([k, v]) => [encodeUntyped(k), encodeUntyped(v)])]
  return value as Atom
}

/** Structural equality of two in-memory values (sets compare as sets). */
export function datumEquals(a: Datum | undefined, b: Datum | undefined): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    const counts = new Map<Atom, number>()
    for (const x of a) counts.set(x, (counts.get(x) ?? 0) + 1)
    for (const x of b) {
      const n = counts.get(x)
      if (!n) return false
      counts.set(x, n - 1)
    }
    return true
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => k in b && a[k] === b[k])
  }
  return false
}
