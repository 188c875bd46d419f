/**
 * KubeTransport over @kubernetes/client-node, the hub's default. Pinned to 1.x: the 2.x line bundles undici 8,
 * which needs Node >= 22 (zstd in zlib) and fails at import on Node 20 (package.json pins ^1.3.0). Loaded lazily:
 * a hub without a Kubernetes source never pays for it.
 */
import { hostname } from 'node:os'
import type { KubeList, KubeTransport, KubeWarning, KubeWatchEvent, WatchedKind } from './kube-transport.js'
import { KubeHttpError, kindPath, REPORTING_COMPONENT } from './kube-transport.js'

/** Longest Event message written: events.k8s.io/v1 caps `note` at 1 KiB; core/v1 has no cap, kubectl shows one line. */
const MAX_EVENT_MESSAGE = 1024

export async function loadClientNodeTransport(kubeconfig: string | undefined): Promise<KubeTransport> {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  if (kubeconfig) kc.loadFromFile(kubeconfig)
  else kc.loadFromDefault()
  const api = kc.makeApiClient(k8s.CustomObjectsApi)
  const core = kc.makeApiClient(k8s.CoreV1Api)
  const watcher = new k8s.Watch(kc)
  return {
    name: '@kubernetes/client-node',
    async list(kind: WatchedKind, namespace: string | undefined): Promise<KubeList> {
      const { group, version, plural } = kind
      const list = (namespace ? await api.listNamespacedCustomObject({ group, version, plural, namespace }) : await api.listClusterCustomObject({ group, version, plural })) as {
        metadata?: { resourceVersion?: string }
        items?: unknown[]
      }
      return { resourceVersion: list.metadata?.resourceVersion ?? '', items: list.items ?? [] }
    },
    async watch(kind, namespace, resourceVersion, onEvent, onDone) {
      const abort = await watcher.watch(
        kindPath(kind, namespace),
        { resourceVersion, allowWatchBookmarks: true },
        (type: string, object: KubeWatchEvent['object']) => onEvent({ type: type as KubeWatchEvent['type'], object }),
        (err: unknown) => onDone(err ?? undefined),
      )
      return { abort: () => abort.abort() }
    },
    async createEvent(w: KubeWarning): Promise<void> {
      const { namespace, name } = w.involvedObject
      const now = new Date()
      // A legacy-style core/v1 Event (no eventTime): `kubectl describe` and `kubectl get events` show it.
      const body = {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: w.involvedObject,
        reason: w.reason,
        message: w.message.length > MAX_EVENT_MESSAGE ? `${w.message.slice(0, MAX_EVENT_MESSAGE - 3)}...` : w.message,
        type: 'Warning',
        source: { component: REPORTING_COMPONENT },
        reportingComponent: REPORTING_COMPONENT,
        reportingInstance: hostname(),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      }
      try {
        await core.createNamespacedEvent({ namespace, body })
      } catch (err) {
        const e = err as { code?: number; body?: unknown }
        if (typeof e.code !== 'number') throw err
        // ApiException's own message carries every response header; keep the Status message only.
        let detail = typeof e.body === 'string' ? e.body : JSON.stringify(e.body)
        try {
          detail = (JSON.parse(detail) as { message?: string }).message ?? detail
        } catch {
          // not JSON: keep the text
        }
        throw new KubeHttpError(e.code, `creating an Event in namespace ${namespace} answered HTTP ${e.code}: ${detail}`)
      }
    },
  }
}
