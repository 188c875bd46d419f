/**
 * KubeTransport over @kubernetes/client-node, the hub's default. Pinned to 1.x: the 2.x line bundles undici 8,
 * which needs Node >= 22 (zstd in zlib) and fails at import on Node 20. Loaded lazily all the same.
 */
import * as zlib from 'node:zlib'
import type { KubeList, KubeTransport, KubeWatchEvent, WatchedKind } from './kube-transport.js'
import { kindPath } from './kube-transport.js'
import { createRequire } from 'node:module'

const CLIENT_NODE_VERSION = (createRequire(import.meta.url)('@kubernetes/client-node/package.json') as { version: string }).version

/** Whether the installed client can load here: 1.x always; a 2.x upgrade needs zlib zstd (Node >= 22.15). */
export function clientNodeSupported(): boolean {
  const major = Number(CLIENT_NODE_VERSION.split('.')[0])
  return major < 2 || typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function'
}

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
      const list = (namespace
        ? await api.listNamespacedCustomObject({ group, version, plural, namespace })
        : await api.listClusterCustomObject({ group, version, plural })) as { metadata?: { resourceVersion?: string }; items?: unknown[] }
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
