/**
 * Request bodies -> validated objects. JSON or YAML (by content-type; none means "sniff"), a single object,
 * an array, a `List`, or a multi-document YAML stream. Each item is validated with the registry (a v1 Pod becomes a
 * Service); the first bad item fails the whole request with its index and the object it names.
 */
import type { Context } from 'hono'
import { ApplianceError } from '../../api/errors.js'
import { parseDocuments } from '../../api/resources/registry.js'
import { parseManifestObject } from '../../api/resources/pod-manifest.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import type { AppEnv } from './env.js'
import { readBodyText } from './middleware/body-limit/index.js'
import { UnsupportedMediaTypeError } from './errors.js'
import { isRecord } from '../../api/is-record.js'

const MEDIA_TYPES = new Set(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/apply-patch+yaml', 'text/plain'])

/** Reads the body as raw documents (not yet validated). */
export async function readDocuments(c: Context<AppEnv>): Promise<unknown[]> {
  const ct = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (ct !== '' && !MEDIA_TYPES.has(ct)) throw new UnsupportedMediaTypeError(ct)
  const text = await readBodyText(c)
  return parseDocuments(text, 'request body')
}

/** Re-throws an item's error with its position in the request, keeping code, issues and the object it names. */
function atIndex(err: unknown, index: number, total: number): unknown {
  if (!(err instanceof ApplianceError) || total <= 1) return err
  return new ApplianceError(err.code, `items[${index}]: ${err.message}`, {
    context: { ...err.context, index },
    issues: err.issues,
    cause: err,
  })
}

export interface ParseOptions {
  /** Every item must be this kind (kind paths). */
  expectKind?: { apiVersion: string; kind: string }
  /** Namespace from the path: filled in when an item has none, an error when an item names another. */
  namespace?: string
}

/**
 * Validates the documents of one request. A v1 Pod becomes a Service and the v1 ConfigMaps it mounts are inlined
 * into it (the request is the "same file": `dpuctl apply -f a.yaml -f b.yaml` sends one request), so the result
 * may hold fewer objects than `docs`; an error still names the index of the document at fault.
 */
export function parseItems(docs: readonly unknown[], opts: ParseOptions = {}): ParsedObject[] {
  if (docs.length === 0) {
    throw new ApplianceError('api.validation', 'the request body holds no object', { issues: [{ path: '', message: 'expected at least one object' }] })
  }
  // The path's namespace first, for every document: a Pod finds its ConfigMaps in the namespace it ends up in.
  const placed = docs.map((raw) =>
    opts.namespace !== undefined && isRecord(raw) && isRecord(raw.metadata) && raw.metadata.namespace === undefined ? { ...raw, metadata: { ...raw.metadata, namespace: opts.namespace } } : raw,
  )
  return placed.flatMap((doc, i) => {
    try {
      const obj = parseManifestObject(doc, placed)
      if (obj === undefined) return []
      const label = `${obj.kind} ${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`
      const context = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }
      if (opts.expectKind && (obj.kind !== opts.expectKind.kind || obj.apiVersion !== opts.expectKind.apiVersion)) {
        throw new ApplianceError('api.validation', `${label}: this path serves ${opts.expectKind.kind}, the body is ${obj.kind}`, {
          context,
          issues: [{ path: 'kind', message: `must be ${opts.expectKind.kind} on this path` }],
        })
      }
      if (opts.namespace !== undefined && obj.metadata.namespace !== opts.namespace) {
        throw new ApplianceError('api.validation', `${label}: metadata.namespace does not match the path namespace ${opts.namespace}`, {
          context,
          issues: [{ path: 'metadata.namespace', message: `must be ${opts.namespace} (the namespace in the path)` }],
        })
      }
      return [obj]
    } catch (err) {
      throw atIndex(err, i, docs.length)
    }
  })
}

/** A JSON body, or undefined when it is not JSON (the caller says what it needed). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
