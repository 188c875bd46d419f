/**
 * The Kubernetes API calls the Kubernetes source needs (list, watch, and one Event write), behind one small interface so the source logic
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
  object: {
    apiVersion?: string
    kind?: string
    code?: number
    metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; generation?: number }
  } & Record<string, unknown>
}

/** A core/v1 Warning Event about one object, e.g. a spec the hub's schema rejects (reason `InvalidSpec`). */
export interface KubeWarning {
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string }
  reason: string
  message: string
}

/** `reportingComponent` (and `source.component`) of the Events the hub writes. */
export const REPORTING_COMPONENT = 'dpu-hub'

export interface KubeTransport {
  readonly name: string
  /** Throws an error with `statusCode` (404 when the CRD is not installed). */
  list(kind: WatchedKind, namespace: string | undefined): Promise<KubeList>
  /** Starts a watch; `onDone` is called once when it ends (err with `statusCode` 410 means relist). */
  watch(kind: WatchedKind, namespace: string | undefined, resourceVersion: string, onEvent: (e: KubeWatchEvent) => void, onDone: (err?: unknown) => void): Promise<{ abort(): void }>
  /** Creates a core/v1 Event of type Warning in the object's namespace; throws with `statusCode` (403 without RBAC). */
  createEvent(warning: KubeWarning): Promise<void>
}

export function kindPath(kind: WatchedKind, namespace: string | undefined): string {
  return namespace ? `/apis/${kind.group}/${kind.version}/namespaces/${namespace}/${kind.plural}` : `/apis/${kind.group}/${kind.version}/${kind.plural}`
}

/** An API server answer other than success, with its HTTP status (the source branches on 403, 404 and 410). */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
    this.name = 'KubeHttpError'
  }
}
