/** Kind words (singular, plural, short name, Kind) -> registry entries, and REST paths for them. */
import { ApplianceError } from '../../api/errors.js'
import type { ObjectRef } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import { findKind } from '../../api/resources/registry.js'

export function resolveKind(word: string): KindInfo {
  const k = findKind(word)
  if (!k) {
    throw new ApplianceError('api.unknown-kind', `the appliance has no resource type "${word}" (GET /apis lists the kinds)`, {
      issues: [{ path: 'kind', message: `unknown resource type "${word}"` }],
    })
  }
  return k
}

export function kindLabel(k: { kind: string; apiVersion: string }): string {
  const group = k.apiVersion.includes('/') ? k.apiVersion.slice(0, k.apiVersion.lastIndexOf('/')) : ''
  return `${k.kind.toLowerCase()}${group ? `.${group}` : ''}`
}

export function collectionPath(k: KindInfo, namespace: string | undefined): string {
  return namespace === undefined ? `/apis/${k.group}/${k.version}/${k.plural}` : `/apis/${k.group}/${k.version}/namespaces/${encodeURIComponent(namespace)}/${k.plural}`
}

export function objectPath(k: KindInfo, ref: Pick<ObjectRef, 'namespace' | 'name'>): string {
  return `${collectionPath(k, ref.namespace)}/${encodeURIComponent(ref.name)}`
}
