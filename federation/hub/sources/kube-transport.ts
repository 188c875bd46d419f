/**
 * The two Kubernetes API calls the Kubernetes source needs, behind one small interface so the source logic
 * (resourceVersion, bookmarks, relist on 410) does not depend on how HTTP is done.
 *
 * The product implementation is `kube-client-node.ts` over @kubernetes/client-node (pinned to 1.x: 2.x needs
 * Node >= 22); tests may drive the source through any other.
 */
export interface WatchedKind {
  group: string
  version: string
  plural: string
}

export interface KubeList {
  resourceVersion: string
  items: unknown[]
}

export interface KubeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: { kind?: string; code?: number; metadata?: { name?: string; namespace?: string; resourceVersion?: string } } & Record<string, unknown>
}

export interface KubeTransport {
  readonly name: string
  /** Throws an error with `statusCode` (404 when the CRD is not installed). */
  list(kind: WatchedKind, namespace: string | undefined): Promise<KubeList>
  /** Starts a watch; `onDone` is called once when it ends (err with `statusCode` 410 means relist). */
  watch(kind: WatchedKind, namespace: string | undefined, resourceVersion: string, onEvent: (e: KubeWatchEvent) => void, onDone: (err?: unknown) => void): Promise<{ abort(): void }>
}

export function kindPath(kind: WatchedKind, namespace: string | undefined): string {
  return namespace ? `/apis/${kind.group}/${kind.version}/namespaces/${namespace}/${kind.plural}` : `/apis/${kind.group}/${kind.version}/${kind.plural}`
}
