/**
 * Fleet objects from the Kubernetes API: one list + watch per DPF kind, kept thin.
 *
 *   list (resourceVersion R) -> watch from R with allowWatchBookmarks
 *     ADDED/MODIFIED/DELETED -> update the kind's object map, R = event RV
 *     BOOKMARK               -> R = bookmark RV only ("nothing for you up to R", KEP-956)
 *     ERROR 410 / done 410   -> R = '' -> relist (history compacted)
 *     other end or error     -> re-watch from R after a jittered delay
 *
 * Snapshots go to the hub only after every kind has listed once, then after each change (debounced 100 ms:
 * Istio's PILOT_DEBOUNCE_AFTER). A kind whose CRD is not installed (404) counts as empty and is relisted
 * every `retryMs`. No Kubernetes call is ever made on the agent ack path.
 */
import type { ParsedObject } from '../../../api/resources/kind.js'
import { LogLimiter } from '../../../api/support/log-limit.js'
import type { Logger } from '../../wire/logger.js'
import { silentLogger } from '../../wire/logger.js'
import { objectKey, type FleetSource } from '../source.js'
import { loadClientNodeTransport } from './kube-client-node.js'
import type { KubeTransport, KubeWatchEvent, WatchedKind } from './kube-transport.js'

export type { WatchedKind } from './kube-transport.js'

export interface KubernetesSourceOptions {
  transport: KubeTransport
  kinds: readonly WatchedKind[]
  /** Raw object -> validated object; throws for an invalid one (logged and skipped). */
  parse: (raw: unknown) => ParsedObject
  /** Only this namespace; all namespaces when omitted. */
  namespace?: string | undefined
  logger?: Logger
  debounceMs?: number
  retryMs?: number
}

const statusOf = (err: unknown): number | undefined => {
  const e = err as { statusCode?: number; code?: number } | undefined
  return e?.statusCode ?? (typeof e?.code === 'number' ? e.code : undefined)
}

class KindWatch {
  readonly objects = new Map<string, ParsedObject>()
  resourceVersion = ''
  listed = false
  private abort: { abort(): void } | undefined
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined
  /** An API server away retries every ~1 s per kind: one warning a minute, with the count. */
  private readonly failureLog = new LogLimiter()

  constructor(private readonly kind: WatchedKind, private readonly source: KubernetesSource, private readonly o: KubernetesSourceOptions) {}

  start(): void {
    void this.loop()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.wake?.()
    this.abort?.abort()
  }

  private keyOf(raw: KubeWatchEvent['object']): string {
    return `${this.kind.group}/${this.kind.version}/${raw.kind}/${raw.metadata?.namespace ?? 'default'}/${raw.metadata?.name}`
  }

  private put(raw: KubeWatchEvent['object']): void {
    try {
      const obj = this.o.parse({ apiVersion: `${this.kind.group}/${this.kind.version}`, ...raw })
      this.objects.set(objectKey(obj), obj)
    } catch (err) {
      this.objects.delete(this.keyOf(raw))
      this.source.logger.warn({ object: this.keyOf(raw), err: (err as Error).message }, 'skipping invalid object from Kubernetes')
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) {
          try {
            const list = await this.o.transport.list(this.kind, this.o.namespace)
            this.objects.clear()
            for (const item of list.items) this.put(item as KubeWatchEvent['object'])
            this.resourceVersion = list.resourceVersion
          } catch (err) {
            if (statusOf(err) !== 404) throw err
            this.objects.clear()
          }
          this.listed = true
          this.failureLog.reset('list-watch') // the API server is back: its next failure is news
          this.source.changed()
          if (!this.resourceVersion) {
            await this.sleep(this.o.retryMs ?? 30_000)
            continue
          }
        }
        const err = await this.watchOnce()
        if (this.stopped) return
        if (statusOf(err) === 410) this.resourceVersion = ''
        else await this.sleep(Math.floor(Math.random() * 500))
      } catch (err) {
        if (this.stopped) return
        this.failureLog.log(this.source.logger, 'warn', 'list-watch', { kind: this.kind.plural, err: (err as Error).message }, 'Kubernetes list/watch failed; retrying')
        await this.sleep(Math.floor(Math.random() * (this.o.retryMs ?? 2000)) + 100)
      }
    }
  }

  /** Resolves when the watch ends, with its error if any. */
  private watchOnce(): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const onEvent = (e: KubeWatchEvent): void => {
        if (e.type === 'ERROR') {
          // 410 Gone: our resourceVersion left the server's history window; relist.
          if (e.object.code === 410) this.resourceVersion = ''
          return
        }
        if (e.type === 'ADDED' || e.type === 'MODIFIED') this.put(e.object)
        else if (e.type === 'DELETED') this.objects.delete(this.keyOf(e.object))
        if (e.object.metadata?.resourceVersion && this.resourceVersion) this.resourceVersion = e.object.metadata.resourceVersion
        if (e.type !== 'BOOKMARK') this.source.changed()
      }
      const onDone = (err?: unknown): void => {
        this.abort = undefined
        resolve(this.resourceVersion === '' ? Object.assign(new Error('resource version expired'), { statusCode: 410 }) : err)
      }
      this.o.transport.watch(this.kind, this.o.namespace, this.resourceVersion, onEvent, onDone).then((a) => {
        this.abort = a
        if (this.stopped) a.abort()
      }, reject)
    })
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      this.wake = r
      this.timer = setTimeout(r, ms)
    })
  }
}

export class KubernetesSource implements FleetSource {
  readonly name = 'kubernetes'
  readonly logger: Logger
  private readonly watches: KindWatch[]
  private onSnapshot: (objects: readonly ParsedObject[]) => void = () => {}
  private timer: NodeJS.Timeout | undefined
  private started = false
  private isSynced = false

  constructor(private readonly o: KubernetesSourceOptions) {
    this.logger = o.logger ?? silentLogger
    this.watches = o.kinds.map((k) => new KindWatch(k, this, o))
  }

  /** From a kubeconfig file (or KUBECONFIG, ~/.kube/config, in-cluster), over @kubernetes/client-node. */
  static async fromKubeconfig(o: Omit<KubernetesSourceOptions, 'transport'> & { kubeconfig?: string | undefined }): Promise<KubernetesSource> {
    return new KubernetesSource({ ...o, transport: await loadClientNodeTransport(o.kubeconfig) })
  }

  async start(onSnapshot: (objects: readonly ParsedObject[]) => void): Promise<void> {
    this.onSnapshot = onSnapshot
    this.started = true
    for (const w of this.watches) w.start()
  }

  async stop(): Promise<void> {
    this.started = false
    clearTimeout(this.timer)
    for (const w of this.watches) w.stop()
  }

  synced(): boolean {
    return this.isSynced
  }

  /** Debounced: a burst of watch events becomes one snapshot. */
  changed(): void {
    if (!this.started || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!this.watches.every((w) => w.listed)) return
      this.isSynced = true
      this.onSnapshot(this.watches.flatMap((w) => [...w.objects.values()]))
    }, this.o.debounceMs ?? 100)
  }
}
