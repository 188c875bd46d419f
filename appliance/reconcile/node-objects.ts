/** Reading the node-level objects this DPU acts on from the store (a snapshot, no awaits). */
import type { StoredObject } from '../../api/meta.js'
import type { Store } from '../store/index.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'

/** Objects for this node: `spec.node` absent (this DPU) or naming it. */
function forNode(objs: StoredObject[], nodeName: string): StoredObject[] {
  return objs.filter((o) => {
    const node = (o.spec as { node?: string } | undefined)?.node
    return node === undefined || node === nodeName
  })
}

export interface NodeObjects {
  interfaces: StoredObject[]
  chains: StoredObject[]
  nads: StoredObject[]
  /** Services (pods) run on this DPU. */
  services: StoredObject[]
}

export function readNodeObjects(store: Store, nodeName: string): NodeObjects {
  return {
    interfaces: forNode(store.objects.list({ apiVersion: SVC, kind: 'ServiceInterface' }), nodeName),
    chains: forNode(store.objects.list({ apiVersion: SVC, kind: 'ServiceChain' }), nodeName),
    nads: store.objects.list({ apiVersion: SVC, kind: 'DPUServiceNAD' }),
    services: forNode(store.objects.list({ apiVersion: SVC, kind: 'Service' }), nodeName),
  }
}
