/** How stored objects and results look on the wire, and their schemas for the API description. */
import type { StoredObject } from '../../api/meta.js'
import type { JsonObject } from '../../api/openapi.js'
import type { ApplyResult, DeleteResult } from '../store/index.js'
import type { LocalApplyOutcome } from '../desired/index.js'

export interface ApplyResponseItem {
  action: string
  /** `input` for objects from the request, `rendered` for node objects rendered from them, `pruned` for removed ones. */
  source: 'input' | 'rendered' | 'pruned'
  object: StoredObject
}

export function listBody(kind: string, resourceVersion: number, items: StoredObject[]) {
  return { apiVersion: 'v1', kind: `${kind}List`, metadata: { resourceVersion: String(resourceVersion) }, items }
}

export function applyBody(outcome: LocalApplyOutcome, resourceVersion: number) {
  const item =
    (source: ApplyResponseItem['source']) =>
    (r: ApplyResult | DeleteResult): ApplyResponseItem[] =>
      r.object ? [{ action: r.action, source, object: r.object }] : []
  return {
    apiVersion: 'appliance/v1',
    kind: 'ApplyResult',
    metadata: { resourceVersion: String(resourceVersion) },
    items: [...outcome.results.flatMap(item('input')), ...outcome.rendered.flatMap(item('rendered')), ...outcome.pruned.flatMap(item('pruned'))],
  }
}

export const ObjectRefSchema: JsonObject = {
  type: 'object',
  required: ['apiVersion', 'kind', 'namespace', 'name'],
  properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' } },
}

const resultEnvelope = (kind: string, item: JsonObject, extra: Record<string, JsonObject> = {}): JsonObject => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'items'],
  properties: {
    apiVersion: { type: 'string', const: 'appliance/v1' },
    kind: { type: 'string', const: kind },
    metadata: { type: 'object', required: ['resourceVersion'], properties: { resourceVersion: { type: 'string' } } },
    items: { type: 'array', items: item },
    ...extra,
  },
})

const SOURCE: JsonObject = {
  type: 'string',
  enum: ['input', 'rendered', 'pruned'],
  description: 'input: from the request; rendered: a node object rendered from a fleet object in it; pruned: removed with it',
}

/** `applyBody`, plus `flows` when the request waited for installation. */
export const ApplyResultSchema = resultEnvelope(
  'ApplyResult',
  {
    type: 'object',
    required: ['action', 'source', 'object'],
    properties: {
      action: { type: 'string', enum: ['created', 'configured', 'unchanged', 'deleted'] },
      source: SOURCE,
      object: { type: 'object', description: 'The object as stored (as deleted, for pruned ones)' },
    },
  },
  { flows: { type: 'object', description: 'With ?wait=installed: whether the chain flows of this write were installed in time', properties: { installed: { type: 'boolean' } } } },
)

export const DeleteResultSchema = resultEnvelope('DeleteResult', {
  type: 'object',
  required: ['action', 'source', 'ref'],
  properties: { action: { type: 'string', enum: ['deleted', 'not-found', 'not-owned'] }, source: SOURCE, ref: ObjectRefSchema },
})
