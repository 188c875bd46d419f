/**
 * `dpuctl explain KIND[.field.path]` computed from the kind's zod schema (as JSON Schema, input form, the same
 * document /openapi.json publishes), printed in `kubectl explain`'s layout: GROUP, KIND, VERSION, FIELD with its
 * type, DESCRIPTION, FIELDS. Lists are walked through (`dsc.spec.template.spec.template.spec.switches.ports`),
 * as kubectl does. Pure.
 */
import { ApplianceError } from '../../api/errors.js'
import { nearestWord } from '../../api/nearest-word.js'
import type { KindInfo } from '../../api/resources/kind.js'

export interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  additionalProperties?: JsonSchema | boolean
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  default?: unknown
  description?: string
}

/** What every Kubernetes object's top-level fields mean (our zod schemas carry no descriptions for them). */
const TOP_LEVEL: Readonly<Record<string, string>> = {
  apiVersion: 'The versioned schema of this object: group/version.',
  kind: 'The type of this object, in CamelCase.',
  metadata: "The object's name, namespace, labels and annotations; the server adds uid, generation, resourceVersion and creationTimestamp.",
  spec: 'The desired state of the object.',
}

function variants(s: JsonSchema): JsonSchema[] {
  return s.anyOf ?? s.oneOf ?? []
}

/** kubectl's type names: `string`, `integer`, `Object`, `[]Object`, `map[string]string`, `IntOrString`. */
export function typeLabel(s: JsonSchema): string {
  const union = variants(s)
  if (union.length > 0) {
    const types = [...new Set(union.map(typeLabel))].sort()
    return types.join('|') === 'integer|string' ? 'IntOrString' : types.join('|')
  }
  if (s.type === 'array') return `[]${s.items ? typeLabel(s.items) : 'Object'}`
  if (s.type === 'object') {
    const ap = s.additionalProperties
    if (Object.keys(s.properties ?? {}).length === 0 && typeof ap === 'object' && ap.type !== undefined) return `map[string]${typeLabel(ap)}`
    return 'Object'
  }
  return s.type ?? 'Object'
}

/** The fields of an object schema (of a list's items, of every variant of a union). */
function fieldsOf(s: JsonSchema): { properties: Record<string, JsonSchema>; required: Set<string> } {
  if (s.type === 'array' && s.items) return fieldsOf(s.items)
  const parts = [s, ...variants(s)]
  return {
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, JsonSchema>,
    required: new Set(parts.flatMap((p) => p.required ?? [])),
  }
}

export interface ExplainTarget {
  /** The dotted path as the user wrote it after the kind, `[]` for the kind itself. */
  path: string[]
  schema: JsonSchema
  required: boolean
}

/** Walks `path` from the kind's root schema. Throws `api.validation` naming the first field that does not exist. */
export function findField(root: JsonSchema, kind: string, path: readonly string[]): ExplainTarget {
  let schema = root
  let required = false
  for (const [i, name] of path.entries()) {
    const { properties, required: req } = fieldsOf(schema)
    const next = properties[name]
    if (next === undefined) {
      const where = [kind, ...path.slice(0, i)].join('.')
      const near = nearestWord(name, Object.keys(properties))
      throw new ApplianceError('api.validation', `field "${name}" does not exist in ${where}${near ? `; did you mean "${near}"?` : ''}`, {
        context: { kind, field: path.slice(0, i + 1).join('.') },
      })
    }
    schema = next
    required = req.has(name)
  }
  return { path: [...path], schema, required }
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n')
}

/** Description plus the facts a user needs to write the field: allowed values, default. */
function describe(s: JsonSchema, topLevel: string | undefined): string {
  const lines = [s.description ?? (topLevel !== undefined ? TOP_LEVEL[topLevel] : undefined) ?? '<empty>']
  const values = s.enum ?? (s.const !== undefined ? [s.const] : undefined)
  if (values) lines.push(`enum: ${values.map((v) => String(v)).join(', ')}`)
  if (s.default !== undefined) lines.push(`default: ${JSON.stringify(s.default)}`)
  return lines.join('\n')
}

function fieldLine(name: string, s: JsonSchema, required: boolean): string {
  return `${name}\t<${typeLabel(s)}>${required ? ' -required-' : ''}`
}

function recursiveFields(s: JsonSchema, depth: number, out: string[]): void {
  const { properties, required } = fieldsOf(s)
  for (const [name, child] of Object.entries(properties)) {
    out.push(indent(fieldLine(name, child, required.has(name)), '  '.repeat(depth)))
    if (depth < 32) recursiveFields(child, depth + 1, out)
  }
}

/** `kubectl explain` text for `target` of `kind`; `recursive` lists every nested field without descriptions. */
export function renderExplain(kind: KindInfo, root: JsonSchema, target: ExplainTarget, opts: { recursive: boolean }): string {
  const name = target.path.at(-1)
  const topLevel = target.path.length === 1 ? name : undefined
  const out = [`GROUP:      ${kind.group}`, `KIND:       ${kind.kind}`, `VERSION:    ${kind.version}`, '']
  if (name !== undefined) out.push(`FIELD: ${name} <${typeLabel(target.schema)}>${target.required ? ' -required-' : ''}`, '')
  const kindText = `${kind.kind} is a ${kind.level === 'fleet' ? 'DPF fleet object: the hub (or a standalone appliance) renders it into the node objects of each DPU it selects' : 'node object: what this appliance acts on'} (${kind.plural}${kind.shortNames.length ? `, short name ${kind.shortNames.join(', ')}` : ''}).`
  out.push('DESCRIPTION:', indent(name === undefined ? (root.description ?? kindText) : describe(target.schema, topLevel), '    '), '')
  const { properties, required } = fieldsOf(target.schema)
  if (Object.keys(properties).length > 0) {
    out.push('FIELDS:')
    if (opts.recursive) {
      const lines: string[] = []
      recursiveFields(target.schema, 1, lines)
      out.push(...lines)
    } else {
      for (const [field, s] of Object.entries(properties)) {
        out.push(indent(fieldLine(field, s, required.has(field)), '  '), indent(describe(s, target.path.length === 0 ? field : undefined), '    '), '')
      }
    }
  }
  return out.join('\n').trimEnd() + '\n'
}
