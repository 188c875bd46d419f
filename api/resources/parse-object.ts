/**
 * The edge check for one decoded object: is it a kind we know, under its apiVersion, and does it satisfy the
 * kind's schema. Everything behind this function may trust `ParsedObject`.
 */
import { KINDS, kindFor } from './registry.js'
import type { ParsedObject } from './kind.js'
import { UnknownKindError, ValidationError, WrongApiVersionError } from './errors.js'
import { toFieldIssues } from './issues.js'
import { isRecord } from '../is-record.js'

/** `Kind namespace/name` as far as the raw object tells, for messages. */
function describe(raw: Record<string, unknown>): { label: string; namespace?: string; name?: string } {
  const kind = typeof raw.kind === 'string' ? raw.kind : 'object'
  const meta = isRecord(raw.metadata) ? raw.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : undefined
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default'
  return { label: `${kind} ${namespace}/${name ?? '<unnamed>'}`, namespace, name }
}

/**
 * Validates a raw object against the registry and its kind's schema.
 * Throws `api.unknown-kind`, `api.wrong-api-version` or `api.validation` (with `issues[{path, message}]`).
 * `metadata.namespace` defaults to `default`; `status` and unknown metadata members are dropped.
 * @example parseObject(parseDocuments(yamlText)[0])
 */
export function parseObject(raw: unknown, source?: string): ParsedObject {
  const where = source === undefined ? '' : `${source}: `
  if (!isRecord(raw)) throw new ValidationError(`${where}expected an object with apiVersion, kind, metadata and spec`, { source }, [{ path: '', message: 'expected an object' }])
  const { label, namespace, name } = describe(raw)
  const context = { source, kind: raw.kind, apiVersion: raw.apiVersion, namespace, name }
  for (const field of ['kind', 'apiVersion'] as const)
    if (typeof raw[field] !== 'string' || raw[field] === '') throw new ValidationError(`${where}${label}: ${field}: required`, context, [{ path: field, message: 'required (expected string)' }])
  const kind = raw.kind as string
  const apiVersion = raw.apiVersion as string

  const info = kindFor(apiVersion, kind)
  if (info === undefined) {
    const sameKind = KINDS.find((k) => k.kind === kind)
    if (sameKind !== undefined) {
      const message = `apiVersion must be ${sameKind.apiVersion} for ${kind}, got ${apiVersion}`
      throw new WrongApiVersionError(`${where}${label}: ${message}`, context, [{ path: 'apiVersion', message }])
    }
    const near = KINDS.find((k) => k.kind.toLowerCase() === kind.toLowerCase())
    const message = `unknown kind ${kind}${near ? ` (did you mean ${near.kind}?)` : ''}`
    throw new UnknownKindError(`${where}${label}: ${message}`, context, [{ path: 'kind', message }])
  }

  const result = info.schema.safeParse(raw, { reportInput: true })
  if (!result.success) {
    const issues = toFieldIssues(result.error)
    const detail = issues.map((i) => `${i.path === '' ? '(object)' : i.path}: ${i.message}`).join('; ')
    throw new ValidationError(`${where}${label}: ${detail}`, context, issues)
  }
  return result.data
}
