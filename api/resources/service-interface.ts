/**
 * ServiceInterface (one port on this DPU) and DPUServiceInterface (its fleet template), svc.dpu.nvidia.com/v1alpha1.
 * One spec schema serves both, so whatever the renderer copies out of a DPUServiceInterface template is a valid
 * ServiceInterface by construction.
 *
 * DPF's CEL rule only says the sub-struct matching `interfaceType` must be set; we also require the others to be
 * absent, since a port built from one of two contradicting sub-structs is a silent misconfiguration.
 *
 * `patch` (DPF latest; its exact shape is ours): a patch-port pair between the chaining bridge (`bridge`, default
 * `br-sfc`) and `peerBridge`. `portName`/`peerPortName` name the two OVS ports; when omitted the appliance derives
 * them the way DPF names the OVN pair (`p<peer>` / `p<bridge>`, truncated to 15 bytes by the port provider).
 */
import { z } from 'zod'
import { NameSchema } from '../meta.js'
import { LabelSelectorSchema, NetdevNameSchema, NodeNameSchema, objectSchema, requireOnly, SVC_API_VERSION, TemplateMetaSchema } from './common.js'

export const INTERFACE_TYPES = ['vlan', 'physical', 'pf', 'vf', 'ovn', 'service', 'patch'] as const
export const InterfaceTypeSchema = z.enum(INTERFACE_TYPES)
export type InterfaceType = z.infer<typeof InterfaceTypeSchema>

const PortIndexSchema = z.number().int().min(0)

export const PhysicalInterfaceSchema = z.looseObject({ interfaceName: NetdevNameSchema })
export const PfInterfaceSchema = z.looseObject({ pfID: PortIndexSchema })
export const VfInterfaceSchema = z.looseObject({
  pfID: PortIndexSchema,
  vfID: PortIndexSchema,
  /** Name of another ServiceInterface in the same namespace. */
  parentInterfaceRef: NameSchema.optional(),
})
export const VlanInterfaceSchema = z.looseObject({
  vlanID: z.number().int().min(1, 'vlanID must be 1..4094').max(4094, 'vlanID must be 1..4094'),
  parentInterfaceRef: NameSchema,
})
export const ServiceInterfaceServiceSchema = z.looseObject({
  /** Pods (or appliance services) labelled `svc.dpu.nvidia.com/service=<serviceID>` own this interface. */
  serviceID: z.string().min(1),
  /** The network (NAD) the interface attaches through: `name` or `namespace/name`. */
  network: z
    .string()
    .min(1)
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'network must be "name" or "namespace/name"'),
  /** The interface name inside the service's network namespace (HBN wants the `_if` suffix). */
  interfaceName: NetdevNameSchema,
})
export const OvnInterfaceSchema = z.looseObject({})
export const PatchInterfaceSchema = z.looseObject({
  peerBridge: NetdevNameSchema,
  bridge: NetdevNameSchema.optional(),
  portName: NetdevNameSchema.optional(),
  peerPortName: NetdevNameSchema.optional(),
})

/** interfaceType -> the member holding its sub-struct (`undefined`: none required). */
const SUB_STRUCT: Record<InterfaceType, string | undefined> = {
  vlan: 'vlan',
  physical: 'physical',
  pf: 'pf',
  vf: 'vf',
  ovn: undefined,
  service: 'service',
  patch: 'patch',
}
const SUB_STRUCT_KEYS = ['vlan', 'physical', 'pf', 'vf', 'ovn', 'service', 'patch'] as const

export const ServiceInterfaceSpecSchema = z
  .looseObject({
    /** The DPU node this interface is on; absent means "this DPU". */
    node: NodeNameSchema.optional(),
    interfaceType: InterfaceTypeSchema,
    vlan: VlanInterfaceSchema.optional(),
    physical: PhysicalInterfaceSchema.optional(),
    pf: PfInterfaceSchema.optional(),
    vf: VfInterfaceSchema.optional(),
    ovn: OvnInterfaceSchema.optional(),
    service: ServiceInterfaceServiceSchema.optional(),
    patch: PatchInterfaceSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const want = SUB_STRUCT[spec.interfaceType]
    if (want !== undefined && spec[want as keyof typeof spec] === undefined) ctx.addIssue({ code: 'custom', path: [want], message: `required when interfaceType is ${spec.interfaceType}` })
    // `ovn: {}` is tolerated on an ovn interface; every other sub-struct must match the type.
    const allowed = spec.interfaceType === 'ovn' ? 'ovn' : want
    requireOnly(spec, SUB_STRUCT_KEYS, allowed, `when interfaceType is ${spec.interfaceType}`, ctx)
  })

export const ServiceInterfaceSchema = objectSchema(SVC_API_VERSION, 'ServiceInterface', ServiceInterfaceSpecSchema)

/** DPF ServiceInterfaceSetSpec: which DPU nodes get the interface, and the per-node template. */
export const ServiceInterfaceSetSpecSchema = z.looseObject({
  nodeSelector: LabelSelectorSchema.optional(),
  template: z.looseObject({
    metadata: TemplateMetaSchema.optional(),
    spec: ServiceInterfaceSpecSchema,
  }),
})

export const DPUServiceInterfaceSpecSchema = z.looseObject({
  /** Which DPU clusters receive it (DPF); the hub decides cluster membership, a standalone appliance ignores it. */
  clusterSelector: LabelSelectorSchema.optional(),
  dpuClusterSelector: LabelSelectorSchema.optional(),
  template: z.looseObject({
    metadata: TemplateMetaSchema.optional(),
    spec: ServiceInterfaceSetSpecSchema,
  }),
})

export const DPUServiceInterfaceSchema = objectSchema(SVC_API_VERSION, 'DPUServiceInterface', DPUServiceInterfaceSpecSchema)
