/** How stored objects and results look on the wire. */
import type { StoredObject } from '../../api/meta.js'
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
  const item = (source: ApplyResponseItem['source']) => (r: ApplyResult | DeleteResult): ApplyResponseItem[] =>
    r.object ? [{ action: r.action, source, object: r.object }] : []
  return {
    apiVersion: 'appliance/v1',
    kind: 'ApplyResult',
    metadata: { resourceVersion: String(resourceVersion) },
    items: [...outcome.results.flatMap(item('input')), ...outcome.rendered.flatMap(item('rendered')), ...outcome.pruned.flatMap(item('pruned'))],
  }
}
