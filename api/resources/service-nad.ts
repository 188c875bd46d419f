/**
 * DPUServiceNAD, svc.dpu.nvidia.com/v1alpha1 (DPF latest): how a service's interface attaches to an OVS bridge.
 * Used as is on the node (no per-node rendering).
 * DPF's documentation writes `mtu:` while its Go type reads `serviceMTU`; both are accepted and normalised to
 * `serviceMTU`, so a manifest copied from either source means the same thing.
 */
import { z } from 'zod'
import { MtuSchema, NetdevNameSchema, objectSchema, SVC_API_VERSION } from './common.js'

export const NadResourceTypeSchema = z.enum(['vf', 'sf', 'veth'])

export const ChainedCniSchema = z.looseObject({
  type: z.string().min(1),
  config: z.unknown().optional(),
})

export const DPUServiceNADSpecSchema = z
  .looseObject({
    resourceType: NadResourceTypeSchema,
    /** The OVS bridge the interface is added to; it must already exist. */
    bridge: NetdevNameSchema.optional(),
    /** A DPUServiceChain switch's serviceMTU overrides it. */
    serviceMTU: MtuSchema.optional(),
    /** Alias of serviceMTU written by DPF's docs; removed by normalisation. */
    mtu: MtuSchema.optional(),
    /** When true, a DPUServiceChain with IPAM must reference the interface. */
    ipam: z.boolean().optional(),
    chainedCNIs: z.array(ChainedCniSchema).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.mtu !== undefined && spec.serviceMTU !== undefined && spec.mtu !== spec.serviceMTU)
      ctx.addIssue({ code: 'custom', path: ['mtu'], message: `mtu (${spec.mtu}) contradicts serviceMTU (${spec.serviceMTU}); set only serviceMTU` })
  })
  .transform(({ mtu, ...rest }) => {
    const serviceMTU = rest.serviceMTU ?? mtu
    return serviceMTU === undefined ? rest : { ...rest, serviceMTU }
  })

export const DPUServiceNADSchema = objectSchema(SVC_API_VERSION, 'DPUServiceNAD', DPUServiceNADSpecSchema)
