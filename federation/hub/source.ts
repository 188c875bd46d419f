/**
 * A fleet source hands the hub complete snapshots of the fleet objects it holds (level-triggered: the planner
 * diffs by content hash, so a source never has to compute events). Sources: a manifest directory (the
 * default) and the Kubernetes API.
 */
import type { ParsedObject } from '../../api/resources/kind.js'

export interface FleetSource {
  readonly name: string
  /** Starts reading; calls onSnapshot with every object after the first full read and after each change. */
  start(onSnapshot: (objects: readonly ParsedObject[], change?: SnapshotChange) => void): Promise<void>
  stop(): Promise<void>
  /** True once a first full snapshot was delivered. */
  synced(): boolean
  /**
   * Called before start with this source's durable store of last good inputs, so an input that is broken when
   * the hub starts still contributes what it last contributed instead of being read as a delete.
   */
  useStore?(store: SnapshotStore): void
  /** Inputs currently rejected (their last good objects are still served), with the reason. */
  errors?(): Record<string, string>
}

/** What the source knows about a snapshot beyond its objects. */
export interface SnapshotChange {
  /** Keys of objects removed on purpose since the previous snapshot (a file deleted, a Kubernetes DELETE). */
  deliberate: ReadonlySet<string>
}

/** One source's last good inputs by key (a file's relative path, a Kubernetes object's key), as text. */
export interface SnapshotStore {
  load(): Map<string, string>
  put(key: string, body: string): void
  delete(key: string): void
}

export function objectKey(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string | undefined } }): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`
}
