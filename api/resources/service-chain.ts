/**
 * ServiceChain (the switches on this DPU's br-sfc) and DPUServiceChain (its fleet template),
 * svc.dpu.nvidia.com/v1alpha1. Each switch joins its ports at L2; switches are joined only by services.
 * Every `matchLabels` must pick exactly one ServiceInterface on the node: that is resolved at reconcile time,
 * here we only refuse selectors that cannot be right (empty, oversized).
 */
import { z } from 'zod'
import { LabelSelectorSchema, MatchLabelsSchema, MAX_PORTS, MAX_SWITCHES, MtuSchema, NodeNameSchema, objectSchema, SVC_API_VERSION, TemplateMetaSchema } from './common.js'

export const ServiceChainIpamSchema = z.looseObject({
  /** Selects the DPUServiceIPAM pool by its labels. */
  matchLabels: MatchLabelsSchema,
  defaultGateway: z.boolean().optional(),
  setDefaultRoute: z.boolean().optional(),
})

export const ServiceChainPortSchema = z.looseObject({
  serviceInterface: z.looseObject({
    matchLabels: MatchLabelsSchema,
    ipam: ServiceChainIpamSchema.optional(),
  }),
})

export const ServiceChainSwitchSchema = z.looseObject({
  ports: z.array(ServiceChainPortSchema).min(1, 'a switch needs at least 1 port').max(MAX_PORTS, `a switch has at most ${MAX_PORTS} ports`),
  serviceMTU: MtuSchema.optional(),
})

export const ServiceChainSpecSchema = z.looseObject({
  /** The DPU node this chain is on; absent means "this DPU". */
  node: NodeNameSchema.optional(),
  switches: z.array(ServiceChainSwitchSchema).min(1, 'a chain needs at least 1 switch').max(MAX_SWITCHES, `a chain has at most ${MAX_SWITCHES} switches`),
})

export const ServiceChainSchema = objectSchema(SVC_API_VERSION, 'ServiceChain', ServiceChainSpecSchema)

/** DPF ServiceChainSetSpec: which DPU nodes get the chain, and the per-node template. */
export const ServiceChainSetSpecSchema = z.looseObject({
  nodeSelector: LabelSelectorSchema.optional(),
  template: z.looseObject({
    metadata: TemplateMetaSchema.optional(),
    spec: ServiceChainSpecSchema,
  }),
})

export const DPUServiceChainSpecSchema = z.looseObject({
  clusterSelector: LabelSelectorSchema.optional(),
  dpuClusterSelector: LabelSelectorSchema.optional(),
  template: z.looseObject({
    metadata: TemplateMetaSchema.optional(),
    spec: ServiceChainSetSpecSchema,
  }),
})

export const DPUServiceChainSchema = objectSchema(SVC_API_VERSION, 'DPUServiceChain', DPUServiceChainSpecSchema)
