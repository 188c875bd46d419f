/**
 * `-o custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status`, as kubectl reads
 * it: HEADER:PATH pairs split at commas outside brackets, each PATH a kubectl JSONPath (braces optional)
 * evaluated per object; several values join with ",", none prints `<none>`.
 */
import { UsageError } from '../../api/cli.js'
import { evaluatePath, printValue, toJsonPathPlus } from './jsonpath-template.js'

export interface CustomColumn {
  header: string
  path: string
}

/** `a,b[?(@.x=="1,2")],c` -> three parts: commas inside brackets, parentheses or quotes do not split. */
function splitTopLevel(spec: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote: string | undefined
  let cur = ''
  for (const c of spec) {
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '[' || c === '(') depth++
    else if (c === ']' || c === ')') depth--
    else if (c === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  parts.push(cur)
  return parts
}

/** Parses the spec after `custom-columns=`. Throws `UsageError` naming the bad column. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec.trim() === '') throw new UsageError('-o custom-columns needs HEADER:PATH[,HEADER:PATH...], e.g. NAME:.metadata.name')
  return splitTopLevel(spec).map((part) => {
    const i = part.indexOf(':')
    if (i <= 0 || i === part.length - 1) throw new UsageError(`-o custom-columns: "${part}" is not HEADER:PATH (e.g. NAME:.metadata.name)`)
    const raw = part.slice(i + 1).trim()
    const path = raw.startsWith('{') && raw.endsWith('}') ? raw.slice(1, -1) : raw
    toJsonPathPlus(path, `-o custom-columns ${part.slice(0, i)}`) // syntax errors now, as usage errors
    return { header: part.slice(0, i), path }
  })
}

/** Header row, then one row per object. Pure. */
export function customColumnRows(columns: readonly CustomColumn[], objects: readonly unknown[]): string[][] {
  return [
    columns.map((c) => c.header),
    ...objects.map((o) =>
      columns.map((c) => {
        const values = evaluatePath(c.path, o)
        return values.length === 0 || (values.length === 1 && values[0] === null) ? '<none>' : values.map(printValue).join(',')
      }),
    ),
  ]
}
