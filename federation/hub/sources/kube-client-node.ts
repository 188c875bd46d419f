/**
 * KubeTransport over @kubernetes/client-node, the hub's default. Pinned to 1.x: the 2.x line bundles undici 8,
 * which needs Node >= 22 (zstd in zlib) and fails at import on Node 20 (package.json pins ^1.3.0). Loaded lazily:
 * a hub without a Kubernetes source never pays for it.
 */
import type { KubeList, KubeTransport, KubeWatchEvent, WatchedKind } from './kube-transport.js'
import { kindPath } from './kube-transport.js'

export async function loadClientNodeTransport(kubeconfig: string | undefined): Promise<KubeTransport> {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  if (kubeconfig) kc.loadFromFile(kubeconfig)
  else kc.loadFromDefault()
  const api = kc.makeApiClient(k8s.CustomObjectsApi)
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
  }
}
