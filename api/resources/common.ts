/**
 * Building blocks shared by every kind: API group constants, Kubernetes label selectors, the checks DPF leaves
 * to runtime (MTU range, Linux netdev names, selector sizes) and the whole-object envelope.
 * DPF objects must be accepted unchanged, so DPF-shaped sub-objects are loose (unknown members kept) while the
 * members we model are typed.
 */
import { z } from 'zod'
import { DEFAULT_NAMESPACE, DNS1123_SUBDOMAIN, InputMetaSchema, LabelsSchema, NamespaceSchema } from '../meta.js'

export const SVC_GROUP = 'svc.dpu.nvidia.com'
export const PROVISIONING_GROUP = 'provisioning.dpu.nvidia.com'
export const V1ALPHA1 = 'v1alpha1'
export const SVC_API_VERSION = `${SVC_GROUP}/${V1ALPHA1}` as const
export const PROVISIONING_API_VERSION = `${PROVISIONING_GROUP}/${V1ALPHA1}` as const

/** DPF caps switches per chain, ports per switch and labels per selector at 50 (CRD maxItems/maxProperties). */
export const MAX_SWITCHES = 50
export const MAX_PORTS = 50
export const MAX_MATCH_LABELS = 50

/** DPF's MTU bounds (`serviceMTU`, `hostNetworkInterfaceConfigs[].mtu`): IPv6 minimum to BlueField jumbo maximum. */
export const MtuSchema = z.number().int().min(1280, 'MTU must be at least 1280').max(9216, 'MTU must be at most 9216')

/**
 * A Linux netdev name (kernel `dev_valid_name`): 1..15 bytes (IFNAMSIZ 16 with the NUL), not `.` or `..`,
 * no `/`, `:` or whitespace. OVS port names on br-sfc become netdevs too, so the same rule applies to them.
 */
const utf8 = new TextEncoder()
export const NetdevNameSchema = z
  .string()
  .min(1, 'interface name must not be empty')
  .refine((s) => utf8.encode(s).length <= 15, 'interface name must be at most 15 bytes (Linux IFNAMSIZ)')
  .refine((s) => s !== '.' && s !== '..', 'interface name must not be "." or ".."')
  .refine((s) => !/[/:\s]/u.test(s), 'interface name must not contain "/", ":" or whitespace')

/** Kubernetes node names are DNS-1123 subdomains. */
export const NodeNameSchema = z.string().max(253).regex(DNS1123_SUBDOMAIN, 'node name must be a DNS-1123 subdomain')

/** `matchLabels` that must select something: 1..50 labels (an empty map would match every interface). */
export const MatchLabelsSchema = LabelsSchema.refine((m) => Object.keys(m).length >= 1, 'matchLabels must not be empty')
  .refine((m) => Object.keys(m).length <= MAX_MATCH_LABELS, `matchLabels must have at most ${MAX_MATCH_LABELS} labels`)
  .meta({ minProperties: 1, maxProperties: MAX_MATCH_LABELS })

/**
 * The value counts the API server enforces on a selector requirement: In/NotIn need values, Exists/DoesNotExist
 * take none, Gt/Lt (NodeSelector only) exactly one integer.
 */
function checkRequirementValues(r: { operator: string; values?: string[] | undefined }, ctx: z.RefinementCtx): void {
  const n = r.values?.length ?? 0
  if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `values must be non-empty for operator ${r.operator}` })
  if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `values must be empty for operator ${r.operator}` })
  if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^-?\d+$/.test(r.values![0]!)))
    ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${r.operator} takes exactly one integer value` })
}

export const LabelSelectorOperatorSchema = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])

export const LabelSelectorRequirementSchema = z
  .object({
    key: z.string().min(1),
    operator: LabelSelectorOperatorSchema,
    values: z.array(z.string()).optional(),
  })
  .superRefine(checkRequirementValues)
export type LabelSelectorRequirement = z.infer<typeof LabelSelectorRequirementSchema>

/** metav1.LabelSelector. An empty selector selects everything, as in Kubernetes. */
export const LabelSelectorSchema = z.object({
  matchLabels: LabelsSchema.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
})
export type LabelSelector = z.infer<typeof LabelSelectorSchema>

/** corev1.NodeSelectorOperator: the label-selector operators plus integer comparisons. */
export const NodeSelectorOperatorSchema = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'])

/** corev1.NodeSelectorRequirement, with the value counts the API server enforces. */
export const NodeSelectorRequirementSchema = z
  .object({
    key: z.string().min(1),
    operator: NodeSelectorOperatorSchema,
    values: z.array(z.string()).optional(),
  })
  .superRefine(checkRequirementValues)
export type NodeSelectorRequirement = z.infer<typeof NodeSelectorRequirementSchema>

/** corev1.NodeSelectorTerm: its expressions are ANDed; `matchFields` may only name `metadata.name` (as in Kubernetes). */
export const NodeSelectorTermSchema = z.object({
  matchExpressions: z.array(NodeSelectorRequirementSchema).optional(),
  matchFields: z.array(NodeSelectorRequirementSchema.refine((r) => r.key === 'metadata.name', { message: 'matchFields supports only the key metadata.name', path: ['key'] })).optional(),
})
export type NodeSelectorTerm = z.infer<typeof NodeSelectorTermSchema>

/**
 * corev1.NodeSelector, the form DPF uses for `DPUServiceIPAM.spec.nodeSelector` and
 * `DPUService.spec.serviceDaemonSet.nodeSelector` (a metav1.LabelSelector elsewhere): terms are ORed, so an
 * empty `nodeSelectorTerms` and an empty term select no node (Kubernetes semantics).
 */
export const NodeSelectorSchema = z.object({
  nodeSelectorTerms: z.array(NodeSelectorTermSchema, {
    error: (i) => (i.input === undefined ? 'nodeSelectorTerms is required: this nodeSelector is a Kubernetes NodeSelector, not a LabelSelector (matchLabels)' : undefined),
  }),
})
export type NodeSelector = z.infer<typeof NodeSelectorSchema>

/** The `metadata` of a DPF template (`template.metadata`): labels and annotations given to rendered objects. */
export const TemplateMetaSchema = z.looseObject({
  labels: LabelsSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
})
export type TemplateMeta = z.infer<typeof TemplateMetaSchema>

/** Input metadata with the namespace defaulted, so every parsed object has one. */
export const ObjectInputMetaSchema = InputMetaSchema.extend({
  namespace: NamespaceSchema.default(DEFAULT_NAMESPACE),
})

/** The envelope of a whole object of one kind; `status` on input is dropped (the server owns it). */
export function objectSchema<A extends string, K extends string, S extends z.ZodType>(apiVersion: A, kind: K, spec: S) {
  return z.object({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata: ObjectInputMetaSchema,
    spec,
  })
}

/** Adds an issue for each present member of `obj` named in `keys` other than `allowed`. */
export function requireOnly(obj: Record<string, unknown>, keys: readonly string[], allowed: string | undefined, reason: string, ctx: z.RefinementCtx): void {
  for (const k of keys) if (k !== allowed && obj[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `must be absent ${reason}` })
}
