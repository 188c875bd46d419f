/**
 * DPUServiceIPAM, svc.dpu.nvidia.com/v1alpha1: an address pool for service interfaces. Exactly one of
 * `ipv4Network` (a subnet per node, each with its own gateway) or `ipv4Subnet` (one shared subnet, a block of
 * addresses per node).
 */
import { z } from 'zod'
import { LabelSelectorSchema, NodeSelectorSchema, objectSchema, SVC_API_VERSION, TemplateMetaSchema } from './common.js'

const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
export const Ipv4AddressSchema = z.string().regex(IPV4, 'must be an IPv4 address')
export const Ipv4CidrSchema = z.string().refine((s) => {
  const [ip, len, extra] = s.split('/')
  return extra === undefined && ip !== undefined && IPV4.test(ip) && len !== undefined && /^(\d|[12]\d|3[0-2])$/.test(len)
}, 'must be an IPv4 CIDR such as 10.0.120.0/22')

function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1])
}

const RoutesSchema = z.array(z.looseObject({ dst: Ipv4CidrSchema })).optional()

export const Ipv4NetworkSchema = z
  .looseObject({
    network: Ipv4CidrSchema,
    gatewayIndex: z.number().int().min(0).optional(),
    /** Size of the subnet each node gets. */
    prefixSize: z.number().int().min(1).max(32),
    exclusions: z.array(z.looseObject({ startIP: Ipv4AddressSchema.optional(), endIP: Ipv4AddressSchema.optional() })).optional(),
    allocations: z.record(z.string(), Ipv4CidrSchema).optional(),
    defaultGateway: z.boolean().optional(),
    routes: RoutesSchema,
  })
  .superRefine((n, ctx) => {
    if (Ipv4CidrSchema.safeParse(n.network).success && n.prefixSize < prefixLength(n.network))
      ctx.addIssue({ code: 'custom', path: ['prefixSize'], message: `prefixSize ${n.prefixSize} is shorter than the network's /${prefixLength(n.network)}` })
  })

export const Ipv4SubnetSchema = z.looseObject({
  subnet: Ipv4CidrSchema,
  gateway: Ipv4AddressSchema,
  perNodeIPCount: z.number().int().min(1),
  defaultGateway: z.boolean().optional(),
  routes: RoutesSchema,
})

export const DPUServiceIPAMSpecSchema = z
  .looseObject({
    /** Labels of the pool, matched by `ipam.matchLabels` in chains. */
    metadata: TemplateMetaSchema.optional(),
    ipv4Network: Ipv4NetworkSchema.optional(),
    ipv4Subnet: Ipv4SubnetSchema.optional(),
    clusterSelector: LabelSelectorSchema.optional(),
    /** DPF: a corev1.NodeSelector (nodeSelectorTerms), unlike the LabelSelectors elsewhere. The hub sends the pool only to DPUs it selects. */
    nodeSelector: NodeSelectorSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const both = spec.ipv4Network !== undefined && spec.ipv4Subnet !== undefined
    const none = spec.ipv4Network === undefined && spec.ipv4Subnet === undefined
    if (both) ctx.addIssue({ code: 'custom', path: ['ipv4Subnet'], message: 'set either ipv4Network or ipv4Subnet, not both' })
    if (none) ctx.addIssue({ code: 'custom', path: ['ipv4Network'], message: 'one of ipv4Network or ipv4Subnet is required' })
  })

export const DPUServiceIPAMSchema = objectSchema(SVC_API_VERSION, 'DPUServiceIPAM', DPUServiceIPAMSpecSchema)
