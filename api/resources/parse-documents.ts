/**
 * Text -> raw objects, before any kind checks: one JSON value (an object, an array of objects, or a `List` with
 * `items`) or a YAML stream of documents separated by `---` (empty documents skipped, Lists flattened).
 * Text whose first character is `{` or `[` is read as strict JSON, so a JSON error is reported where it is
 * rather than half-accepted as a YAML flow collection.
 */
import { LineCounter, parseAllDocuments } from 'yaml'
import { DecodeError } from './errors.js'
import { jsonErrorOffset, lineColumn } from './json-error-position.js'

/** Aliases are expanded on decode; bound them so a small document cannot expand into a huge one. */
const MAX_ALIAS_COUNT = 100

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** `List`/`XxxList` wrappers and arrays contribute their items; null (empty) entries are skipped. */
function unwrap(value: unknown, out: unknown[]): void {
  if (value === null || value === undefined) return
  if (Array.isArray(value)) for (const v of value) unwrap(v, out)
  else if (isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items))
    for (const v of value.items) unwrap(v, out)
  else out.push(value)
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

function decodeYaml(text: string, source: string | undefined): unknown[] {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const list = Array.isArray(docs) ? docs : []
  const out: unknown[] = []
  for (const doc of list) {
    const err = doc.errors[0]
    if (err !== undefined) {
      const { line, col } = lineCounter.linePos(err.pos[0])
      throw new DecodeError(`${at(source, line, col)}: malformed YAML: ${err.message}`, line, col, { source, yamlCode: err.code }, err)
    }
    if (doc.contents === null) continue
    try {
      out.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }))
    } catch (e) {
      const pos = doc.contents.range?.[0] ?? 0
      const { line, col } = lineCounter.linePos(pos)
      const reason = e instanceof Error ? e.message : String(e)
      throw new DecodeError(`${at(source, line, col)}: cannot expand YAML document: ${reason}`, line, col, { source }, e)
    }
  }
  return out
}

/**
 * Splits a YAML or JSON text into raw objects (validate each with `parseObject`).
 * Throws `api.decode` (a `DecodeError` with `line`/`column`) when the text is not well-formed.
 * @example parseDocuments(fs.readFileSync(f, 'utf8'), f).map((o) => parseObject(o, f))
 */
export function parseDocuments(text: string, source?: string): unknown[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const first = body.trimStart()[0]
  const values = first === '{' || first === '[' ? [decodeJson(body, source)] : decodeYaml(body, source)
  const out: unknown[] = []
  for (const v of values) unwrap(v, out)
  return out
}
