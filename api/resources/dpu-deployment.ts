/**
 * DPUDeployment, svc.dpu.nvidia.com/v1alpha1: one object naming the BFB, flavor, DPU sets, services and chain
 * of a fleet. `serviceChains` is a list of switches in v25.1 and `{switches, upgradePolicy}` in latest; both are
 * accepted. A port picks either a ServiceInterface by labels or a service's interface by name.
 */
import { z } from 'zod'
import { NameSchema } from '../meta.js'
import { LabelSelectorSchema, MatchLabelsSchema, MAX_PORTS, MAX_SWITCHES, MtuSchema, NetdevNameSchema, objectSchema, SVC_API_VERSION } from './common.js'
import { ServiceChainIpamSchema } from './service-chain.js'
import { NodeEffectSchema } from './dpu-set.js'

export const DeploymentDpuSetSchema = z.looseObject({
  nameSuffix: NameSchema,
  nodeSelector: LabelSelectorSchema.optional(),
  dpuSelector: z.record(z.string(), z.string()).optional(),
  dpuAnnotations: z.record(z.string(), z.string()).optional(),
})

function exactlyOne(keys: readonly [string, string]) {
  return (obj: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const [a, b] = keys
    if (obj[a] === undefined && obj[b] === undefined) ctx.addIssue({ code: 'custom', path: [a], message: `one of ${a} or ${b} is required` })
    if (obj[a] !== undefined && obj[b] !== undefined) ctx.addIssue({ code: 'custom', path: [b], message: `set either ${a} or ${b}, not both` })
  }
}

export const DeploymentDpusSchema = z
  .looseObject({
    bfb: NameSchema.optional(),
    blueFieldSoftware: NameSchema.optional(),
    flavor: NameSchema.optional(),
    flavorTemplate: NameSchema.optional(),
    dpuSets: z.array(DeploymentDpuSetSchema).optional(),
    nodeEffect: NodeEffectSchema.optional(),
    dpuSetStrategy: z.unknown().optional(),
  })
  .superRefine(exactlyOne(['bfb', 'blueFieldSoftware']))
  .superRefine(exactlyOne(['flavor', 'flavorTemplate']))

export const DeploymentServiceSchema = z.looseObject({
  serviceTemplate: NameSchema,
  serviceConfiguration: NameSchema,
  dependsOn: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
})

export const DeploymentChainPortSchema = z
  .looseObject({
    serviceInterface: z.looseObject({ matchLabels: MatchLabelsSchema, ipam: ServiceChainIpamSchema.optional() }).optional(),
    /** A key of `spec.services` and the interface name inside that service. */
    service: z.looseObject({ name: z.string().min(1), interface: NetdevNameSchema, ipam: ServiceChainIpamSchema.optional() }).optional(),
  })
  .superRefine(exactlyOne(['serviceInterface', 'service']))

export const DeploymentChainSwitchSchema = z.looseObject({
  ports: z.array(DeploymentChainPortSchema).min(1).max(MAX_PORTS, `a switch has at most ${MAX_PORTS} ports`),
  serviceMTU: MtuSchema.optional(),
})

const SwitchListSchema = z.array(DeploymentChainSwitchSchema).max(MAX_SWITCHES, `a chain has at most ${MAX_SWITCHES} switches`)

export const DPUDeploymentSpecSchema = z.looseObject({
  dpus: DeploymentDpusSchema,
  services: z.record(z.string().min(1), DeploymentServiceSchema).optional(),
  serviceChains: z
    .union(
      [
        SwitchListSchema,
        z.looseObject({
          switches: SwitchListSchema,
          upgradePolicy: z.looseObject({ applyNodeEffect: z.boolean().optional() }).optional(),
        }),
      ],
      { error: 'serviceChains must be a list of switches (v25.1) or {switches, upgradePolicy} (latest)' },
    )
    .optional(),
  revisionHistoryLimit: z.number().int().min(0).optional(),
})

export const DPUDeploymentSchema = objectSchema(SVC_API_VERSION, 'DPUDeployment', DPUDeploymentSpecSchema)
