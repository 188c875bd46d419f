/**
 * DPUFlavor, provisioning.dpu.nvidia.com/v1alpha1: how a DPU's OS, firmware and OVS are configured.
 * Used as is on the node (the appliance reads its OVS and resource settings); DPF makes the spec immutable,
 * which the store enforces, not this schema.
 */
import { z } from 'zod'
import { MtuSchema, objectSchema, PROVISIONING_API_VERSION } from './common.js'

/** corev1.ResourceList: quantities as strings or numbers (`cpu: 16`, `memory: 16Gi`, `nvidia.com/sf: 20`). */
export const ResourceListSchema = z.record(z.string(), z.union([z.string(), z.number()]))

export const NvconfigSchema = z.looseObject({
  /** `*` applies to every device. */
  device: z.string().optional(),
  parameters: z.array(z.string()).optional(),
  hostPowerCycleRequired: z.boolean().optional(),
})

export const ConfigFileSchema = z.looseObject({
  path: z.string().min(1).regex(/^\//, 'path must be absolute'),
  operation: z.enum(['override', 'append']).optional(),
  raw: z.string().optional(),
  permissions: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, 'permissions must be an octal mode such as "0644"')
    .optional(),
})

export const HostNetworkInterfaceConfigSchema = z.looseObject({
  portNumber: z.number().int().min(0).max(1),
  mtu: MtuSchema.optional(),
  dhcp: z.boolean().optional(),
  nvconfig: z.unknown().optional(),
})

export const DPUFlavorSpecSchema = z.looseObject({
  grub: z.looseObject({ kernelParameters: z.array(z.string()).optional() }).optional(),
  sysctl: z.looseObject({ parameters: z.array(z.string()).optional() }).optional(),
  nvconfig: z.array(NvconfigSchema).optional(),
  ovs: z.looseObject({ rawConfigScript: z.string().optional() }).optional(),
  bfcfgParameters: z.array(z.string()).optional(),
  configFiles: z.array(ConfigFileSchema).optional(),
  containerdConfig: z.looseObject({ registryEndpoint: z.string().optional() }).optional(),
  dpuResources: ResourceListSchema.optional(),
  systemReservedResources: ResourceListSchema.optional(),
  dpuMode: z.enum(['dpu', 'zero-trust', 'nic']).optional(),
  hostNetworkInterfaceConfigs: z.array(HostNetworkInterfaceConfigSchema).optional(),
})

export const DPUFlavorSchema = objectSchema(PROVISIONING_API_VERSION, 'DPUFlavor', DPUFlavorSpecSchema)
export type DPUFlavor = z.infer<typeof DPUFlavorSchema>
