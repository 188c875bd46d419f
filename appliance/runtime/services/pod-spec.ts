/**
 * Zod schemas for what crosses into a backend: the pod spec from the reconciler and the arguments naming a
 * pod or container. A backend validates here, at its edge, so a malformed spec fails with field paths before
 * anything is created on the host.
 */
import { z } from 'zod'
import { toFieldIssues } from '../../../api/resources/issues.js'
import { InvalidRuntimeSpecError } from './errors.js'
import type { RuntimePodSpec } from './runtime.js'

// Container names become file names (process) and podman object names: DNS-1123 labels, as Kubernetes demands.
const ContainerNameSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label')
// A file name under /run/netns; kept to a conservative alphabet so it is also safe in podman and ip arguments.
const NetnsNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1..63 of [A-Za-z0-9_.-], not starting with . _ or -')

const RuntimeMountSchema = z.object({
  hostPath: z.string().startsWith('/'),
  containerPath: z.string().startsWith('/'),
  readOnly: z.boolean(),
})

const RuntimeContainerSpecSchema = z.object({
  name: ContainerNameSchema,
  image: z.string(),
  command: z.array(z.string()).readonly(),
  argsOnly: z.boolean().optional(),
  env: z.record(z.string().regex(/^[^=\0]+$/, 'must be a variable name without "="'), z.string()),
  workingDir: z.string().startsWith('/').optional(),
  mounts: z.array(RuntimeMountSchema).readonly(),
  privileged: z.boolean(),
  capAdd: z.array(z.string()).readonly(),
  capDrop: z.array(z.string()).readonly(),
  limits: z.object({ cpuMillis: z.number().int().positive().optional(), memoryBytes: z.number().int().positive().optional() }),
})

export const RuntimePodSpecSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be namespace/name'),
    specHash: z.string().min(1).max(128),
    netnsName: NetnsNameSchema,
    containers: z.array(RuntimeContainerSpecSchema).min(1),
    labels: z.record(z.string(), z.string()),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>()
    spec.containers.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['containers', i, 'name'], message: `duplicate container name ${c.name}` })
      seen.add(c.name)
      if (c.command.length === 0 && c.argsOnly !== true) ctx.addIssue({ code: 'custom', path: ['containers', i, 'command'], message: 'empty command' })
    })
  })

/** The spec, validated; throws InvalidRuntimeSpecError with field paths. */
export function parsePodSpec(spec: unknown): RuntimePodSpec {
  const r = RuntimePodSpecSchema.safeParse(spec)
  if (!r.success) throw new InvalidRuntimeSpecError('pod spec', toFieldIssues(r.error))
  return r.data as RuntimePodSpec
}

/** Validates a pod key and container name given as method arguments. */
export function parseRef(key: string, container?: string): void {
  const r = z.object({ key: RuntimePodSpecSchema.shape.key, container: ContainerNameSchema.optional() }).safeParse({ key, container })
  if (!r.success) throw new InvalidRuntimeSpecError('pod reference', toFieldIssues(r.error))
}
