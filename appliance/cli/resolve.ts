/** Kind words (singular, plural, short name, Kind) -> registry entries, and REST paths for them. */
import { UsageError } from '../../api/cli.js'
import { ApplianceError } from '../../api/errors.js'
import type { ObjectRef } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import { nearestWord } from '../../api/nearest-word.js'
import { findKind, kindWords } from '../../api/resources/registry.js'

/** The kind a user's word names; `api.unknown-kind` with the nearest name ("did you mean") when none does. */
export function resolveKind(word: string): KindInfo {
  const k = findKind(word)
  if (!k) {
    const near = nearestWord(word, kindWords())
    throw new ApplianceError('api.unknown-kind', `the server doesn't have a resource type "${word}"${near ? `; did you mean "${near}"?` : ''} (dpuctl api-resources lists them)`, {
      context: { kind: word },
    })
  }
  return k
}

/** `dsi,dsc` -> each kind once, in the order given (kubectl's comma-separated kinds). */
export function resolveKinds(words: string): KindInfo[] {
  const parts = words.split(',')
  if (parts.some((p) => p === '')) throw new UsageError(`"${words}" has an empty kind between commas`)
  return [...new Set(parts.map(resolveKind))]
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
