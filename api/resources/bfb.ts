/**
 * BFB, provisioning.dpu.nvidia.com/v1alpha1: a BlueField bundle image to download and install.
 * v25.1 required the URL to end in `.bfb`; latest does not, so neither do we.
 */
import { z } from 'zod'
import { objectSchema, PROVISIONING_API_VERSION } from './common.js'

export const BfbVersionsSchema = z.looseObject({
  bsp: z.string().min(1),
  doca: z.string().min(1),
  uefi: z.string().min(1),
  atf: z.string().min(1),
})

export const BFBSpecSchema = z.looseObject({
  url: z.string().regex(/^(http|https):\/\/.+/, 'url must be an http:// or https:// URL'),
  /** Defaults to `<namespace>-<name>` in DPF. */
  fileName: z
    .string()
    .regex(/^[A-Za-z0-9_\-.]+\.bfb$/, 'fileName must be letters, digits, "_", "-", "." and end in .bfb')
    .optional(),
  /** All four or none (DPF latest); when absent they are read from the BFB itself. */
  versions: BfbVersionsSchema.optional(),
})

export const BFBSchema = objectSchema(PROVISIONING_API_VERSION, 'BFB', BFBSpecSchema)
