/**
 * DPUServiceTemplate and DPUServiceConfiguration, svc.dpu.nvidia.com/v1alpha1 (DPF reference §2.11, §6.1): the two
 * halves a DPUDeployment merges into one DPUService per `spec.services` key. The template says which chart (and
 * its default values and resource needs); the configuration says how this deployment runs it (values that win
 * on conflict, labels and annotations for the service's pods, its interfaces). `mergeServiceTemplate`
 * (api/render/merge-service-template.ts) does the merge.
 */
import { z } from 'zod'
import { objectSchema, NetdevNameSchema, SVC_API_VERSION } from './common.js'
import { HelmChartSchema } from './dpu-service.js'
import { ServiceInterfaceServiceSchema } from './service-interface.js'

/** Resource quantities as Kubernetes writes them (`cpu: "2"`, `memory: 4Gi`, or a bare number). */
const ResourceListSchema = z.record(z.string(), z.union([z.string().min(1), z.number()]))

export const DPUServiceTemplateSpecSchema = z.looseObject({
  /** The `spec.services` key of the DPUDeployment this template serves. */
  deploymentServiceName: z.string().min(1),
  helmChart: HelmChartSchema,
  /** What the service needs on a DPU (DPF's ResourceFitting sums these against the flavor). */
  resourceRequirements: ResourceListSchema.optional(),
})

export const ServiceConfigurationSchema = z.looseObject({
  /** Values only: the chart source comes from the template. */
  helmChart: z.looseObject({ values: z.record(z.string(), z.unknown()).optional() }).optional(),
  serviceDaemonSet: z
    .looseObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  deployInCluster: z.boolean().optional(),
})

export const ServiceInterfaceTemplateSchema = z.looseObject({
  /** The interface name inside the service (HBN's `p0_if`). */
  name: NetdevNameSchema,
  /** The network (NAD) it attaches through: `name` or `namespace/name`. */
  network: ServiceInterfaceServiceSchema.shape.network,
})

export const DPUServiceConfigurationSpecSchema = z.looseObject({
  deploymentServiceName: z.string().min(1),
  serviceConfiguration: ServiceConfigurationSchema.optional(),
  interfaces: z.array(ServiceInterfaceTemplateSchema).optional(),
})

export type DPUServiceTemplateSpec = z.infer<typeof DPUServiceTemplateSpecSchema>
export type DPUServiceConfigurationSpec = z.infer<typeof DPUServiceConfigurationSpecSchema>

export const DPUServiceTemplateSchema = objectSchema(SVC_API_VERSION, 'DPUServiceTemplate', DPUServiceTemplateSpecSchema)
export const DPUServiceConfigurationSchema = objectSchema(SVC_API_VERSION, 'DPUServiceConfiguration', DPUServiceConfigurationSpecSchema)
