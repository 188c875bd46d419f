/** Stored ServiceChain / ServiceInterface objects -> the chain compiler's input shapes. */
import type { StoredObject } from '../../api/meta.js'
import type { ChainInput, ChainInterface } from '../sfc/model.js'

export function chainInputs(chains: readonly StoredObject[]): ChainInput[] {
  return chains.map((c) => {
    const spec = c.spec as { switches: Array<{ ports: Array<{ serviceInterface: { matchLabels: Record<string, string> } }>; serviceMTU?: number }> }
    return {
      namespace: c.metadata.namespace,
      name: c.metadata.name,
      generation: c.metadata.generation,
      createdAt: c.metadata.creationTimestamp,
      switches: spec.switches.map((s) => ({ ports: s.ports, ...(s.serviceMTU !== undefined ? { serviceMTU: s.serviceMTU } : {}) })),
    }
  })
}

export function interfaceInputs(interfaces: readonly StoredObject[]): ChainInterface[] {
  return interfaces.map((i) => {
    const spec = i.spec as { interfaceType: string; vlan?: { vlanID: number; parentInterfaceRef: string } }
    return {
      namespace: i.metadata.namespace,
      name: i.metadata.name,
      labels: i.metadata.labels ?? {},
      ...(spec.interfaceType === 'vlan' && spec.vlan ? { vlan: { vlanId: spec.vlan.vlanID, parent: spec.vlan.parentInterfaceRef } } : {}),
    }
  })
}
