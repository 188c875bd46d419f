/**
 * DPUSet, provisioning.dpu.nvidia.com/v1alpha1: which host nodes get a DPU object, with which BFB and flavor,
 * and how updates roll. v25.1 selector names (`nodeSelector`, `dpuSelector`) and latest ones
 * (`dpuNodeSelector`, `dpuDeviceSelector`) are both accepted.
 */
import { z } from 'zod'
import { LabelSelectorSchema, objectSchema, PROVISIONING_API_VERSION } from './common.js'
import { NameSchema } from '../meta.js'

/** IntOrString as Kubernetes writes it: a count or a percentage. */
export const IntOrPercentSchema = z.union([z.number().int().min(0), z.string().regex(/^(\d+|\d+%)$/, 'must be a count or a percentage such as "10%"')])

export const TaintSchema = z.looseObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
})

/** The mutually exclusive ways a DPU install affects its host node. */
const NODE_EFFECT_KINDS = ['taint', 'noEffect', 'customLabel', 'drain', 'customAction', 'hold'] as const

export const NodeEffectSchema = z
  .looseObject({
    taint: TaintSchema.optional(),
    noEffect: z.boolean().optional(),
    customLabel: z.record(z.string(), z.string()).optional(),
    drain: z.looseObject({ automaticNodeReboot: z.boolean().optional() }).optional(),
    customAction: z.unknown().optional(),
    hold: z.unknown().optional(),
    force: z.boolean().optional(),
    applyOnLabelChange: z.boolean().optional(),
    nodeMaintenanceAdditionalRequestors: z.array(z.string()).optional(),
  })
  .superRefine((effect, ctx) => {
    const set = NODE_EFFECT_KINDS.filter((k) => effect[k] !== undefined)
    if (set.length > 1) ctx.addIssue({ code: 'custom', path: [set[1]!], message: `only one of ${NODE_EFFECT_KINDS.join(', ')} may be set (found ${set.join(', ')})` })
  })

export const DPUTemplateSchema = z.looseObject({
  annotations: z.record(z.string(), z.string()).optional(),
  spec: z.looseObject({
    bfb: z.looseObject({ name: NameSchema }).optional(),
    nodeEffect: NodeEffectSchema.optional(),
    cluster: z.looseObject({ nodeLabels: z.record(z.string(), z.string()).optional() }).optional(),
    dpuFlavor: NameSchema.optional(),
    automaticNodeReboot: z.boolean().optional(),
  }),
})

export const DPUSetSpecSchema = z.looseObject({
  strategy: z
    .looseObject({
      type: z.enum(['Recreate', 'RollingUpdate']).optional(),
      rollingUpdate: z.looseObject({ maxUnavailable: IntOrPercentSchema.optional() }).optional(),
    })
    .optional(),
  nodeSelector: LabelSelectorSchema.optional(),
  dpuNodeSelector: LabelSelectorSchema.optional(),
  /** Picks the DPU on each node from NFD labels (v25.1: a plain map). */
  dpuSelector: z.record(z.string(), z.string()).optional(),
  dpuDeviceSelector: LabelSelectorSchema.optional(),
  dpuTemplate: DPUTemplateSchema,
})

export const DPUSetSchema = objectSchema(PROVISIONING_API_VERSION, 'DPUSet', DPUSetSpecSchema)
