/**
 * Kubernetes-style object metadata and status shared by every kind, fleet-level (DPF) or node-level.
 * Inputs accept what a DPF manifest carries; server-managed fields (uid, generation, resourceVersion,
 * creationTimestamp) are ignored on input and set by the store.
 */
import { z } from 'zod'

/** DNS-1123 label: lower-case alphanumerics and '-', starts and ends alphanumeric, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
/** DNS-1123 subdomain: labels joined by '.', at most 253 characters. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export const NameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(63, 'name must be at most 63 characters')
  .regex(DNS1123_LABEL, 'name must be a DNS-1123 label (lower-case a-z, 0-9 and "-", alphanumeric at both ends)')

/**
 * A namespace follows the same DNS-1123 label rule as a name; a separate name keeps call sites saying which one.
 * @alias NameSchema
 */
export const NamespaceSchema = NameSchema

export const DEFAULT_NAMESPACE = 'default'

/** Label keys and values follow Kubernetes rules: optional DNS prefix + '/' + name, values <= 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
export const LabelsSchema = z.record(
  z.string().max(316).regex(LABEL_KEY, 'label key must be [prefix/]name with alphanumerics, "-", "_" and "."'),
  z.string().max(63).regex(LABEL_VALUE, 'label value must be at most 63 alphanumerics, "-", "_" or "."'),
)
export const AnnotationsSchema = z.record(z.string(), z.string())

export const ObjectOriginSchema = z.enum(['local', 'hub'])
export type ObjectOrigin = z.infer<typeof ObjectOriginSchema>

/** Metadata as accepted on input (apply). Unknown metadata members are dropped. */
export const InputMetaSchema = z.object({
  name: NameSchema,
  namespace: NamespaceSchema.optional(),
  labels: LabelsSchema.optional(),
  annotations: AnnotationsSchema.optional(),
  // Server-managed; accepted so a `get -o yaml` round-trips into `apply`, then ignored (or used as a precondition).
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
})
export type InputMeta = z.infer<typeof InputMetaSchema>

/** Metadata as the store returns it. */
export const ObjectMetaSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  uid: z.string(),
  generation: z.number().int().positive(),
  resourceVersion: z.string(),
  creationTimestamp: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  /** Where the desired state came from: the local API, or the federation hub (read-only locally). */
  origin: ObjectOriginSchema,
})
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>

export const ConditionStatusSchema = z.enum(['True', 'False', 'Unknown'])
export const ConditionSchema = z.object({
  type: z.string().min(1),
  status: ConditionStatusSchema,
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
})
export type Condition = z.infer<typeof ConditionSchema>

/** Every object's status: phase, observedGeneration and conditions, plus kind-specific members. */
export const ObjectStatusSchema = z
  .object({
    phase: z.string().optional(),
    observedGeneration: z.number().int().optional(),
    conditions: z.array(ConditionSchema).optional(),
  })
  .catchall(z.unknown())
export type ObjectStatus = z.infer<typeof ObjectStatusSchema>

/** A stored object of any kind, as the store and REST API hand it out. */
export interface StoredObject<Spec = unknown> {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  spec: Spec
  status: ObjectStatus
}

/** Identity of an object: (apiVersion/kind, namespace, name). */
export interface ObjectRef {
  apiVersion: string
  kind: string
  namespace: string
  name: string
}

export function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace}/${ref.name}`
}
