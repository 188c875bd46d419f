/**
 * DPUService, svc.dpu.nvidia.com/v1alpha1: a service (a Helm chart in DPF) run on selected DPUs.
 * The appliance runs it under a runtime backend; the chart members are kept as DPF writes them.
 */
import { z } from 'zod'
import { LabelSelectorSchema, NodeSelectorSchema, objectSchema, SVC_API_VERSION } from './common.js'
import { NameSchema } from '../meta.js'

/** DPF caps `interfaces` at 50 DPUServiceInterface names per service. */
export const MAX_SERVICE_INTERFACES = 50

export const HelmChartSchema = z.looseObject({
  source: z.looseObject({
    repoURL: z.string().regex(/^(oci:\/\/|https:\/\/)/, 'repoURL must start with oci:// or https://'),
    path: z.string().optional(),
    version: z.string().min(1),
    chart: z.string().optional(),
    releaseName: z.string().optional(),
  }),
  /** Helm values, free-form (a RawExtension in DPF). */
  values: z.record(z.string(), z.unknown()).optional(),
})

export const ServiceDaemonSetSchema = z.looseObject({
  /** DPF: a corev1.NodeSelector; the hub gives the service's Services only to the DPUs it selects. */
  nodeSelector: NodeSelectorSchema.optional(),
  updateStrategy: z.unknown().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
})

export const DPUServiceSpecSchema = z
  .looseObject({
    helmChart: HelmChartSchema,
    /** Ties the service to ServiceInterfaces of type `service` with the same serviceID. */
    serviceID: z.string().min(1).optional(),
    serviceDaemonSet: ServiceDaemonSetSchema.optional(),
    /** Run in the host cluster instead of on DPUs (DPF); the appliance ignores such services. */
    deployInCluster: z.boolean().optional(),
    interfaces: z.array(NameSchema).min(1, 'interfaces, when set, must name at least 1 DPUServiceInterface').max(MAX_SERVICE_INTERFACES, `at most ${MAX_SERVICE_INTERFACES} interfaces`).optional(),
    paused: z.boolean().optional(),
    clusterSelector: LabelSelectorSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.interfaces !== undefined && spec.serviceID === undefined) ctx.addIssue({ code: 'custom', path: ['serviceID'], message: 'required when interfaces is set' })
  })

export const DPUServiceSchema = objectSchema(SVC_API_VERSION, 'DPUService', DPUServiceSpecSchema)
