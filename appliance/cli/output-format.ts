/**
 * `-o` of `get`: table (default), wide, json, yaml, name, `custom-columns=SPEC` and `jsonpath=TEMPLATE` (also
 * `jsonpath='{...}'` and `-o=...`, as kubectl takes them). Read once, before any request, so a bad spec is a
 * usage error (exit 2) that names it.
 */
import { UsageError } from '../../api/cli.js'
import { parseCustomColumns, type CustomColumn } from './custom-columns.js'
import { parseJsonPathTemplate, type JsonPathTemplate } from './jsonpath-template.js'

export type OutputFormat = { type: 'table' | 'wide' | 'json' | 'yaml' | 'name' } | { type: 'custom-columns'; columns: CustomColumn[] } | { type: 'jsonpath'; template: JsonPathTemplate }

const SIMPLE = ['wide', 'json', 'yaml', 'name'] as const

/** The `-o` value (undefined: the table). */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return { type: 'table' }
  if ((SIMPLE as readonly string[]).includes(value)) return { type: value as (typeof SIMPLE)[number] }
  const eq = value.indexOf('=')
  const name = eq < 0 ? value : value.slice(0, eq)
  const arg = eq < 0 ? '' : value.slice(eq + 1)
  if (name === 'custom-columns') return { type: 'custom-columns', columns: parseCustomColumns(arg) }
  if (name === 'jsonpath') {
    if (arg === '') throw new UsageError("-o jsonpath needs a template, e.g. -o jsonpath='{.items[*].metadata.name}'")
    return { type: 'jsonpath', template: parseJsonPathTemplate(arg) }
  }
  throw new UsageError(`-o must be one of json, yaml, wide, name, custom-columns=SPEC, jsonpath=TEMPLATE; got "${value}"`)
}
