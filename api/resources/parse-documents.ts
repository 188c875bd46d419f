/**
 * Text -> raw objects, before any kind checks: one JSON value (an object, an array of objects, or a `List` with
 * `items`) or a YAML stream of documents separated by `---` (empty documents skipped, Lists flattened).
 * Text whose first character is `{` or `[` is read as strict JSON, so a JSON error is reported where it is
 * rather than half-accepted as a YAML flow collection, unless it holds `---` document markers: JSON documents
 * separated by `---` are a YAML stream (whatever the file's extension).
 */
import { isMap, isNode, isSeq, LineCounter, parseAllDocuments, parseDocument } from 'yaml'
import { DecodeError } from './errors.js'
import { jsonErrorOffset, lineColumn } from './json-error-position.js'
import { isRecord } from '../is-record.js'

/** Aliases are expanded on decode; bound them so a small document cannot expand into a huge one. */
const MAX_ALIAS_COUNT = 100

/** One raw object and the line where it starts in its text (1-based), for messages that name `file:line`. */
export interface LocatedDocument {
  value: unknown
  line: number
}

type Located = (node: unknown) => number | undefined

/**
 * `List`/`XxxList` wrappers and arrays contribute their items; null (empty) entries are skipped. `node` is the
 * YAML node of `value` when positions are known, so each item keeps its own line.
 */
function unwrap(value: unknown, node: unknown, line: number, lineOf: Located, out: LocatedDocument[]): void {
  if (value === null || value === undefined) return
  if (Array.isArray(value)) {
    const items = isSeq(node) ? node.items : []
    value.forEach((v, i) => unwrap(v, items[i], lineOf(items[i]) ?? line, lineOf, out))
  } else if (isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    unwrap(value.items, isMap(node) ? node.get('items', true) : undefined, line, lineOf, out)
  } else out.push({ value, line })
}

/** `file.yaml:3:7` or `line 3, column 7`: where a decode error is. */
function at(source: string | undefined, line: number, column: number): string {
  return source === undefined ? `line ${line}, column ${column}` : `${source}:${line}:${column}`
}

function decodeJson(text: string, source: string | undefined): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const offset = jsonErrorOffset(text)
    const { line, column } = lineColumn(text, offset < 0 ? text.length : offset)
    const reason = err instanceof Error ? err.message : String(err)
    throw new DecodeError(`${at(source, line, column)}: malformed JSON: ${reason}`, line, column, { source }, err)
  }
}

function decodeYaml(text: string, source: string | undefined, out: LocatedDocument[]): void {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const list = Array.isArray(docs) ? docs : []
  const lineOf: Located = (node) => (isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined)
  for (const doc of list) {
    const err = doc.errors[0]
    if (err !== undefined) {
      const { line, col } = lineCounter.linePos(err.pos[0])
      throw new DecodeError(`${at(source, line, col)}: malformed YAML: ${err.message}`, line, col, { source, yamlCode: err.code }, err)
    }
    if (doc.contents === null) continue
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (e) {
      const pos = doc.contents.range?.[0] ?? 0
      const { line, col } = lineCounter.linePos(pos)
      const reason = e instanceof Error ? e.message : String(e)
      throw new DecodeError(`${at(source, line, col)}: cannot expand YAML document: ${reason}`, line, col, { source }, e)
    }
    unwrap(value, doc.contents, lineOf(doc.contents) ?? 1, lineOf, out)
  }
}

/** A `---` document marker at the start of a line: the text is a YAML stream, even if its documents are JSON. */
const DOCUMENT_MARKER = /^---(?:[ \t]|$)/m

function decode(text: string, source: string | undefined, locate: boolean): LocatedDocument[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const start = body.length - body.trimStart().length
  const first = body[start]
  const out: LocatedDocument[] = []
  if (first === '{' || first === '[') {
    let value: unknown
    try {
      value = decodeJson(body, source)
    } catch (err) {
      // JSON documents separated by `---` are a valid YAML 1.2 stream (YAML reads JSON): read them as one.
      if (!DOCUMENT_MARKER.test(body)) throw err
      decodeYaml(body, source, out)
      return out
    }
    const line = lineColumn(body, start).line
    // Per-item lines of a JSON array or List cost a second parse: only when the caller names positions.
    const many = Array.isArray(value) || (isRecord(value) && Array.isArray(value.items))
    if (locate && many) {
      const lineCounter = new LineCounter()
      const doc = parseDocument(body, { lineCounter, uniqueKeys: false })
      // JSON that YAML reads differently (rare: keys over 1024 characters) keeps the first line for every item
      const contents = doc.errors.length === 0 ? doc.contents : undefined
      const lineOf: Located = (node) => (isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined)
      unwrap(value, contents, line, lineOf, out)
    } else unwrap(value, undefined, line, () => undefined, out)
    return out
  }
  decodeYaml(body, source, out)
  return out
}

/**
 * Splits a YAML or JSON text into raw objects (validate each with `parseObject`).
 * Throws `api.decode` (a `DecodeError` with `line`/`column`) when the text is not well-formed.
 * @example parseDocuments(fs.readFileSync(f, 'utf8'), f).map((o) => parseObject(o, f))
 */
export function parseDocuments(text: string, source?: string): unknown[] {
  return decode(text, source, false).map((d) => d.value)
}

/**
 * `parseDocuments`, with the line where each object starts (the items of a List or array each have their own),
 * so a client can name `file:line` when the server refuses the N-th object.
 */
export function parseLocatedDocuments(text: string, source?: string): LocatedDocument[] {
  return decode(text, source, true)
}
