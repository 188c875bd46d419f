/**
 * Fleet objects from the Kubernetes API: one list + watch per DPF kind, kept thin.
 *
 *   list (resourceVersion R) -> watch from R with allowWatchBookmarks
 *     ADDED/MODIFIED/DELETED -> update the kind's object map, R = event RV
 *     BOOKMARK               -> R = bookmark RV only ("nothing for you up to R", KEP-956)
 *     ERROR 410 / done 410   -> R = '' -> relist (history compacted), at most once per expiry: a relist
 *                               whose watch expires again without one event waits a backoff first
 *     other ERROR event      -> logged, re-watch from R after a backoff
 *     other end or error     -> re-watch from R after a jittered backoff (403, 500 ...: reported in errors())
 *
 * An object the schema rejects keeps its last good version, as a broken manifest file does; only a DELETED event
 * or its absence from a successful list removes it. The error is reported under the object's key (errors(),
 * which the hub's REST API shows as `sourceErrors`) and on the object itself: one core/v1 Warning Event (reason
 * `InvalidSpec`) per object generation, not per relist; without RBAC to create events (403) that is logged
 * once per namespace and the source carries on. With a
 * store, each object's last good version is also kept in the hub's database, so a hub that restarts while an
 * object is invalid still serves it.
 *
 * Snapshots go to the hub only after every kind has listed once, then after each change (debounced 100 ms:
 * Istio's PILOT_DEBOUNCE_AFTER). A kind whose CRD is not installed (404) counts as empty and is relisted
 * every `retryMs`. No Kubernetes call is ever made on the agent ack path.
 */
import type { ParsedObject } from '../../../api/resources/kind.js'
import { backoffDelay } from '../../../api/support/backoff.js'
import { LogLimiter } from '../../../api/support/log-limit.js'
import type { Logger } from '../../wire/logger.js'
import { silentLogger } from '../../wire/logger.js'
import { type FleetSource, type SnapshotChange, type SnapshotStore } from '../source.js'
import { loadClientNodeTransport } from './kube-client-node.js'
import type { KubeTransport, KubeWatchEvent, WatchedKind } from './kube-transport.js'
import { REPORTING_COMPONENT } from './kube-transport.js'

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
  /** Objects the schema rejects (by key), and this kind's list/watch failure (under the kind's name). */
  readonly errors = new Map<string, string>()
  /** Consecutive failed list/watch attempts: the backoff grows with it and resets on the first good event. */
  private failures = 0

  constructor(
    private readonly kind: WatchedKind,
    private readonly source: KubernetesSource,
    private readonly o: KubernetesSourceOptions,
  ) {}

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

  private get kindError(): string {
    return `kind ${this.kind.plural}`
  }

  /** Returns the object's key. An invalid object keeps its last good version: in memory, else from the store. */
  private put(raw: KubeWatchEvent['object']): string {
    const key = this.keyOf(raw)
    const withVersion = { apiVersion: `${this.kind.group}/${this.kind.version}`, ...raw }
    try {
      const obj = this.o.parse(withVersion)
      this.objects.set(key, obj)
      if (this.errors.delete(key)) this.source.logger.info({ object: key }, 'Kubernetes object valid again')
      this.source.valid(key)
      this.source.remember(key, obj)
    } catch (err) {
      const message = (err as Error).message
      if (this.errors.get(key) !== message) this.source.logger.warn({ object: key, err: message }, 'invalid object from Kubernetes; keeping its last good version')
      this.errors.set(key, message)
      this.source.reportInvalid(key, withVersion, message)
      if (!this.objects.has(key)) {
        const last = this.source.lastGood(key)
        if (last) this.objects.set(key, last)
      }
    }
    return key
  }

  private remove(key: string): void {
    this.objects.delete(key)
    this.errors.delete(key)
    this.source.valid(key)
    this.source.forget(key)
  }

  /** The shared backoff with equal jitter: 0.5..1 x min(retryMs, 250 ms x 2^failures). */
  private backoffMs(): number {
    return backoffDelay(this.failures++, { initialMs: 250, maxMs: this.o.retryMs ?? 30_000, jitter: 'equal' })
  }

  private failed(what: 'list' | 'watch', err: unknown): void {
    const status = statusOf(err)
    const message = `${what} failed${status ? ` (HTTP ${status})` : ''}: ${(err as Error | undefined)?.message ?? String(err)}`
    if (this.errors.get(this.kindError) !== message) this.failureLog.reset('list-watch') // a new kind of failure is news
    this.errors.set(this.kindError, message)
    this.failureLog.log(
      this.source.logger,
      'warn',
      'list-watch',
      { kind: this.kind.plural, status, err: message },
      'Kubernetes list/watch failed; serving the last good objects and retrying with backoff',
    )
  }

  private recovered(): void {
    if (this.errors.delete(this.kindError)) {
      this.failureLog.reset('list-watch')
      this.source.logger.info({ kind: this.kind.plural }, 'Kubernetes list/watch working again')
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) {
          let missing = false
          try {
            const list = await this.o.transport.list(this.kind, this.o.namespace)
            // A successful list is the truth: what it no longer holds was deleted.
            const seen = new Set(list.items.map((item) => this.put(item as KubeWatchEvent['object'])))
            for (const key of [...this.objects.keys()]) if (!seen.has(key)) this.remove(key)
            for (const key of [...this.errors.keys()]) {
              if (key === this.kindError || seen.has(key)) continue
              this.errors.delete(key)
              this.source.valid(key) // gone without a last good version: forget that it was warned about
            }
            this.resourceVersion = list.resourceVersion
          } catch (err) {
            if (statusOf(err) !== 404) throw Object.assign(err as Error, { during: 'list' })
            // CRD not installed: no object of this kind can exist.
            missing = true
            for (const key of [...this.objects.keys()]) this.remove(key)
          }
          this.listed = true
          if (missing) this.errors.set(this.kindError, `CRD not installed (list answered 404); relisting every ${Math.round((this.o.retryMs ?? 30_000) / 1000)} s`)
          else this.recovered()
          this.source.changed()
          if (!this.resourceVersion) {
            await this.sleep(this.o.retryMs ?? 30_000)
            continue
          }
        }
        // stop() may have come while the list was in flight: a watch started now could not be aborted until its
        // response headers arrive.
        if (this.stopped) return
        const { err, events } = await this.watchOnce()
        if (this.stopped) return
        if (statusOf(err) === 410) {
          this.resourceVersion = ''
          // Expired again before one event: the relist did not help by itself; do not spin list/watch pairs.
          if (events === 0) await this.sleep(this.backoffMs())
        } else if (err) {
          this.failed('watch', err)
          await this.sleep(this.backoffMs())
        } else await this.sleep(Math.floor(Math.random() * 500))
      } catch (err) {
        if (this.stopped) return
        this.failed((err as { during?: string }).during === 'list' ? 'list' : 'watch', err)
        await this.sleep(this.backoffMs())
      }
    }
  }

  /** Resolves when the watch ends, with its error if any and how many events it carried. */
  private watchOnce(): Promise<{ err: unknown; events: number }> {
    let events = 0
    return new Promise<{ err: unknown; events: number }>((resolve, reject) => {
      const onEvent = (e: KubeWatchEvent): void => {
        if (e.type === 'ERROR') {
          // 410 Gone: our resourceVersion left the server's history window; relist.
          if (e.object.code === 410) this.resourceVersion = ''
          else {
            const status = e.object as { code?: number; reason?: string; message?: string }
            watchError = Object.assign(new Error(`ERROR event: ${status.reason ?? 'unknown'}: ${status.message ?? ''}`), { statusCode: status.code })
          }
          return
        }
        // The first event of a watch proves it works: clear the report now, not when this (long) watch ends.
        if (events++ === 0) {
          this.failures = 0
          this.recovered()
        }
        if (e.type === 'ADDED' || e.type === 'MODIFIED') this.put(e.object)
        // A DELETE is a removal on purpose: the stored last good version goes too.
        else if (e.type === 'DELETED') {
          const key = this.keyOf(e.object)
          this.remove(key)
          this.source.deliberate.add(key)
        }
        if (e.object.metadata?.resourceVersion && this.resourceVersion) this.resourceVersion = e.object.metadata.resourceVersion
        if (e.type !== 'BOOKMARK') this.source.changed()
      }
      let watchError: unknown
      const onDone = (err?: unknown): void => {
        this.abort = undefined
        resolve({ err: this.resourceVersion === '' ? Object.assign(new Error('resource version expired'), { statusCode: 410 }) : (watchError ?? err), events })
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
  private onSnapshot: (objects: readonly ParsedObject[], change?: SnapshotChange) => void = () => {}
  /** Keys DELETEd since the last snapshot: removed on purpose (a relist's absences are not). */
  deliberate = new Set<string>()
  private store: SnapshotStore | undefined
  private stored = new Map<string, string>()
  private timer: NodeJS.Timeout | undefined
  private started = false
  private isSynced = false
  /** Per rejected object: the generation (uid/generation) a Warning Event was written, or is being written, for. */
  private readonly warned = new Map<string, string>()
  /** Namespaces where creating an Event answered 403, logged once each. */
  private readonly eventsForbidden = new Set<string>()
  private readonly eventFailureLog = new LogLimiter()

  constructor(private readonly o: KubernetesSourceOptions) {
    this.logger = o.logger ?? silentLogger
    this.watches = o.kinds.map((k) => new KindWatch(k, this, o))
  }

  /** From a kubeconfig file (or KUBECONFIG, ~/.kube/config, in-cluster), over @kubernetes/client-node. */
  static async fromKubeconfig(o: Omit<KubernetesSourceOptions, 'transport'> & { kubeconfig?: string | undefined }): Promise<KubernetesSource> {
    return new KubernetesSource({ ...o, transport: await loadClientNodeTransport(o.kubeconfig) })
  }

  async start(onSnapshot: (objects: readonly ParsedObject[], change?: SnapshotChange) => void): Promise<void> {
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

  useStore(store: SnapshotStore): void {
    this.store = store
    this.stored = store.load()
  }

  /** Objects the schema rejects and kinds whose list/watch fails, with the reason. */
  errors(): Record<string, string> {
    return Object.fromEntries(this.watches.flatMap((w) => [...w.errors]))
  }

  /** Keeps an object's last good version in the store (only when it changed). */
  remember(key: string, obj: ParsedObject): void {
    if (!this.store) return
    const body = JSON.stringify(obj)
    if (this.stored.get(key) === body) return
    this.stored.set(key, body)
    try {
      this.store.put(key, body)
    } catch (err) {
      this.logger.error({ err, object: key }, 'cannot store the last good version of a Kubernetes object')
    }
  }

  forget(key: string): void {
    if (!this.stored.delete(key)) return
    try {
      this.store?.delete(key)
    } catch (err) {
      this.logger.error({ err, object: key }, 'cannot forget the stored version of a deleted Kubernetes object')
    }
  }

  lastGood(key: string): ParsedObject | undefined {
    const body = this.stored.get(key)
    if (body === undefined) return undefined
    try {
      return this.o.parse(JSON.parse(body))
    } catch {
      return undefined
    }
  }

  /**
   * Writes one Warning Event on an object the schema rejects, once per generation: a relist or a status-only
   * change (same generation) does not write another. Never blocks the watch; a failure is logged, not retried
   * until the object is seen again, and a 403 (no RBAC for events) is logged once per namespace.
   */
  reportInvalid(key: string, raw: KubeWatchEvent['object'] & { apiVersion: string }, message: string): void {
    const md = raw.metadata ?? {}
    if (!md.name) return
    const generation = `${md.uid ?? ''}/${md.generation ?? md.resourceVersion ?? ''}`
    if (this.warned.get(key) === generation) return
    this.warned.set(key, generation)
    const namespace = md.namespace ?? 'default'
    const involvedObject = { apiVersion: raw.apiVersion, kind: raw.kind ?? '', name: md.name, namespace, ...(md.uid ? { uid: md.uid } : {}) }
    this.o.transport.createEvent({ involvedObject, reason: 'InvalidSpec', message: `${REPORTING_COMPONENT} rejects this object and keeps serving its last good version: ${message}` }).then(
      () => this.logger.debug({ object: key, generation }, 'wrote a Warning Event on the invalid Kubernetes object'),
      (err: unknown) => {
        const status = statusOf(err)
        if (status === 403) {
          if (this.eventsForbidden.has(namespace)) return
          this.eventsForbidden.add(namespace)
          this.logger.warn(
            { namespace, object: key, err: (err as Error).message },
            'no RBAC to create events in this namespace (403): invalid objects are reported in the hub API and logs only; grant "create" on core "events" to see them on the objects',
          )
          return
        }
        // Try again when the object is next seen (a relist or a change).
        if (this.warned.get(key) === generation) this.warned.delete(key)
        this.eventFailureLog.log(
          this.logger,
          'warn',
          'event',
          { object: key, status, err: (err as Error | undefined)?.message ?? String(err) },
          'cannot write a Warning Event on an invalid Kubernetes object',
        )
      },
    )
  }

  /** The object is valid again or gone: a later rejection is news again. */
  valid(key: string): void {
    this.warned.delete(key)
  }

  /** Debounced: a burst of watch events becomes one snapshot. */
  changed(): void {
    if (!this.started || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!this.watches.every((w) => w.listed)) return
      this.isSynced = true
      const deliberate = this.deliberate
      this.deliberate = new Set()
      this.onSnapshot(
        this.watches.flatMap((w) => [...w.objects.values()]),
        { deliberate },
      )
    }, this.o.debounceMs ?? 100)
  }
}
