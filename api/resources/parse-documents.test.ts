import { describe, expect, it } from 'vitest'
import { type ApplianceError } from '../errors.js'
import { DecodeError } from './errors.js'
import { parseDocuments, parseLocatedDocuments } from './parse-documents.js'

function decodeError(text: string, source?: string): DecodeError {
  try {
    parseDocuments(text, source)
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError)
    expect((err as ApplianceError).code).toBe('api.decode')
    return err as DecodeError
  }
  throw new Error('expected a DecodeError, nothing was thrown')
}

const a = { apiVersion: 'v', kind: 'A', metadata: { name: 'a' } }
const b = { apiVersion: 'v', kind: 'B', metadata: { name: 'b' } }

describe('parseDocuments reads', () => {
  it.each<[string, string]>([
    ['a JSON object', JSON.stringify(a)],
    ['a JSON array', JSON.stringify([a, b])],
    ['a JSON List', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [a, b] })],
    ['a typed JSON list (kubectl get -o json)', JSON.stringify({ apiVersion: 'v', kind: 'DPUServiceChainList', items: [a, b] })],
    ['pretty JSON with a BOM and leading space', `\uFEFF  \n${JSON.stringify([a, b], null, 2)}\n`],
    ['YAML documents', 'apiVersion: v\nkind: A\nmetadata: {name: a}\n---\napiVersion: v\nkind: B\nmetadata:\n  name: b\n'],
    ['YAML with empty and comment-only documents', '---\n# nothing here\n---\napiVersion: v\nkind: A\nmetadata: {name: a}\n---\n---\napiVersion: v\nkind: B\nmetadata: {name: b}\n...\n'],
    ['a YAML List', 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v, kind: A, metadata: {name: a}}\n- {apiVersion: v, kind: B, metadata: {name: b}}\n'],
    ['a YAML top-level sequence', '- {apiVersion: v, kind: A, metadata: {name: a}}\n- {apiVersion: v, kind: B, metadata: {name: b}}\n'],
  ])('%s', (_name, text) => {
    const docs = parseDocuments(text)
    expect(docs.map((d) => (d as { kind: string }).kind)).toEqual(text.includes('"B"') || text.includes('kind: B') ? ['A', 'B'] : ['A'])
    expect(docs[0]).toEqual(a)
  })

  it('reads JSON documents separated by --- as the YAML stream they are (a .yaml or .json file of them)', () => {
    const text = `${JSON.stringify(a)}\n---\n${JSON.stringify(b, null, 2)}\n`
    expect(parseDocuments(text, 'objects.yaml')).toEqual([a, b])
    expect(parseDocuments(`---\n${JSON.stringify(a)}\n---\n${JSON.stringify([b])}\n`, 'objects.json')).toEqual([a, b])
  })

  it('returns nothing for empty input', () => {
    expect(parseDocuments('')).toEqual([])
    expect(parseDocuments('---\n---\n')).toEqual([])
  })

  it('reads YAML 1.2 scalars as DPF writes them (yes stays a string, quoted numbers stay strings)', () => {
    const [doc] = parseDocuments('x: yes\ny: "10%"\nz: 1500\nv: "1.0"\n')
    expect(doc).toEqual({ x: 'yes', y: '10%', z: 1500, v: '1.0' })
  })

  it('expands a few aliases', () => {
    const [doc] = parseDocuments('a: &l {uplink: p0}\nb: *l\n')
    expect(doc).toEqual({ a: { uplink: 'p0' }, b: { uplink: 'p0' } })
  })
})

describe('parseLocatedDocuments names the line each object starts on', () => {
  it.each<[string, string, number[]]>([
    ['YAML documents', '# c\napiVersion: v\nkind: A\n---\n\napiVersion: v\nkind: B\n', [2, 6]],
    ['a YAML List', 'kind: List\nitems:\n- kind: A\n  apiVersion: v\n-\n  kind: B\n', [3, 6]],
    ['a pretty JSON array', `[\n  {"kind": "A"},\n\n  {\n    "kind": "B"\n  }\n]\n`, [2, 4]],
    ['a JSON List', JSON.stringify({ kind: 'List', items: [a, b] }, null, 1), [4, 11]],
    ['one JSON object after blank lines', `\n\n${JSON.stringify(a)}`, [3]],
    ['JSON documents separated by ---', `${JSON.stringify(a)}\n---\n${JSON.stringify(b)}\n`, [1, 3]],
  ])('%s', (_name, text, lines) => {
    expect(parseLocatedDocuments(text, 'f').map((d) => d.line)).toEqual(lines)
    expect(parseLocatedDocuments(text, 'f').map((d) => d.value)).toEqual(parseDocuments(text, 'f'))
  })
})

describe('parseDocuments rejects malformed input with a line and column', () => {
  it.each<[string, string, number, number]>([
    ['bad YAML indentation (a nested map in a compact one)', 'apiVersion: v\nkind: A\nmetadata:\n  name: a\n   labels: x\n', 4, 9],
    ['an unterminated YAML flow map', 'apiVersion: v\nkind: A\nmetadata: {name: a\n', 4, 1],
    ['a duplicate YAML key', 'apiVersion: v\nkind: A\nkind: B\n', 3, 1],
    ['a tab as YAML indentation', 'metadata:\n\tname: a\n', 2, 1],
    ['a JSON value missing', '{\n  "apiVersion": "v",\n  "kind": }\n', 3, 11],
    ['a JSON trailing comma', '[{"kind": "A"},]', 1, 16],
    ['truncated JSON', '{"kind": "A"', 1, 13],
    ['JSON with trailing garbage', '{"kind": "A"} x', 1, 15],
    ['JSON with a bad escape', '{"kind": "\\q"}', 1, 12],
  ])('%s', (_name, text, line, column) => {
    const err = decodeError(text, 'in.yaml')
    expect({ line: err.line, column: err.column }).toEqual({ line, column })
    expect(err.context).toMatchObject({ line, column, source: 'in.yaml' })
    expect(err.message.startsWith(`in.yaml:${line}:${column}: malformed`)).toBe(true)
  })

  it('says line and column when there is no source name', () => {
    expect(decodeError('{"a": }').message).toMatch(/^line 1, column 7: malformed JSON/)
  })

  it('refuses an alias bomb', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      )
    expect(decodeError(lines.join('\n') + '\n').code).toBe('api.decode')
  })
})
