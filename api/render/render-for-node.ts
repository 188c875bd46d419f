/**
 * The one renderer from fleet objects to what one DPU acts on; the hub runs it per DPU, a standalone appliance
 * runs it for itself. DPF does this in two hops (DPUServiceChain -> ServiceChainSet -> ServiceChain per node);
 * we go straight from the fleet object to the node object, honouring the set's `nodeSelector`.
 * `clusterSelector` is not evaluated here: choosing clusters is the hub's business, before it calls this.
 *
 * Naming: a rendered object keeps the fleet object's namespace and name (DPF names children `<set>-<node>`).
 * One DPU holds at most one child per fleet object, so the name is unique there, `dpuctl get sc x` finds what
 * `dsc x` produced, and references by name (a vlan's `parentInterfaceRef`, `dpf-id` = `ns/name`) still resolve.
 *
 *   DPUServiceChain.spec.template.spec.nodeSelector       -> does this DPU get one?
 *   DPUServiceChain.spec.template.spec.template.metadata  -> ServiceChain.metadata.labels/annotations
 *   DPUServiceChain.spec.template.spec.template.spec      -> ServiceChain.spec (+ node)
 *
 * DPUServiceIPAM is delivered as it is (DPF turns it into NVIPAM pools in the DPU cluster; the appliance reads the
 * DPUServiceIPAM itself, appliance/reconcile/service-ipam.ts) to the DPUs its `nodeSelector` (a corev1.NodeSelector)
 * selects: a DPU that is not selected never holds the pool, so its interfaces cannot take addresses from it.
 */
import type { z } from 'zod'
import type { ParsedObject } from '../resources/kind.js'
import { NodeNameSchema, SVC_API_VERSION, type TemplateMeta } from '../resources/common.js'
import { DPUServiceChainSpecSchema } from '../resources/service-chain.js'
import { DPUServiceInterfaceSpecSchema } from '../resources/service-interface.js'
import { matchesLabelSelector, matchesNodeSelector } from '../resources/selector-match.js'
import { DPUServiceIPAMSpecSchema } from '../resources/dpu-service-ipam.js'
import { kindFor } from '../resources/registry.js'
import { toFieldIssues } from '../resources/issues.js'
import { RenderError } from './errors.js'

/** Annotation on every rendered object: `<Kind>/<namespace>/<name>` of the fleet object it came from. */
export const RENDERED_FROM_ANNOTATION = 'dpu.appliance/rendered-from'

export interface RenderNode {
  /** The DPU's node name (written to `spec.node`). */
  name: string
  /** The DPU's node labels, matched against `nodeSelector`. */
  labels: Readonly<Record<string, string>>
}

/** The fleet kinds that render into a node kind, and what they render into. */
const TEMPLATED = {
  DPUServiceInterface: { schema: DPUServiceInterfaceSpecSchema, into: 'ServiceInterface' },
  DPUServiceChain: { schema: DPUServiceChainSpecSchema, into: 'ServiceChain' },
} as const satisfies Record<string, { schema: z.ZodType; into: string }>

interface SetSpec {
  template: { spec: { nodeSelector?: Parameters<typeof matchesLabelSelector>[0]; template: { metadata?: TemplateMeta; spec: Record<string, unknown> } } }
}

/** `obj.spec` through `schema`, or `api.render` naming the fields (the object may not have come through parseObject). */
function parseSpec<T>(obj: ParsedObject, schema: z.ZodType<T>): T {
  const ref = `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`
  const parsed = schema.safeParse(obj.spec, { reportInput: true })
  if (!parsed.success)
    throw new RenderError(
      `${ref}: spec is not valid`,
      { object: ref },
      toFieldIssues(parsed.error).map((i) => ({ ...i, path: `spec.${i.path}` })),
    )
  return parsed.data
}

function renderTemplated(obj: ParsedObject, node: RenderNode, schema: z.ZodType, into: string): ParsedObject[] {
  const namespace = obj.metadata.namespace ?? 'default'
  const ref = `${obj.kind}/${namespace}/${obj.metadata.name}`
  const set = (parseSpec(obj, schema) as SetSpec).template.spec
  if (!matchesLabelSelector(set.nodeSelector, node.labels)) return []

  const inner = structuredClone(set.template)
  const { node: _placeholder, ...spec } = inner.spec
  const labels = inner.metadata?.labels
  return [
    {
      apiVersion: SVC_API_VERSION,
      kind: into,
      metadata: {
        name: obj.metadata.name,
        namespace,
        ...(labels === undefined ? {} : { labels }),
        annotations: { ...inner.metadata?.annotations, [RENDERED_FROM_ANNOTATION]: ref },
      },
      spec: { node: node.name, ...spec },
    },
  ]
}

/**
 * The objects one DPU gets from `obj`: DPUServiceInterface -> ServiceInterface and DPUServiceChain ->
 * ServiceChain when the node matches `nodeSelector` (else none); DPUServiceIPAM unchanged when its `nodeSelector`
 * selects the node; node kinds (DPUServiceNAD, DPUFlavor, and ServiceInterface/ServiceChain for this node or no
 * node) unchanged; other fleet kinds nothing.
 * Pure and deterministic; the result shares nothing with `obj`. Throws `api.render` on an invalid node name
 * or a fleet spec that does not satisfy its schema.
 * @example renderForNode(dsc, { name: 'dpu-1', labels: { rack: 'a' } }) // [ServiceChain dpu-1]
 */
export function renderForNode(obj: ParsedObject, node: RenderNode): ParsedObject[] {
  const info = kindFor(obj.apiVersion, obj.kind)
  if (info === undefined) throw new RenderError(`${obj.apiVersion} ${obj.kind} is not a registered kind`, { kind: obj.kind })
  if (!NodeNameSchema.safeParse(node.name).success)
    throw new RenderError(`node name ${JSON.stringify(node.name)} is not a DNS-1123 subdomain`, { node: node.name }, [{ path: 'spec.node', message: 'node name must be a DNS-1123 subdomain' }])
  const templated = TEMPLATED[obj.kind as keyof typeof TEMPLATED]
  if (templated !== undefined) return renderTemplated(obj, node, templated.schema, templated.into)
  if (obj.kind === 'DPUServiceIPAM') return matchesNodeSelector(parseSpec(obj, DPUServiceIPAMSpecSchema).nodeSelector, node) ? [structuredClone(obj)] : []
  if (info.level === 'fleet') return []
  const target = (obj.spec as { node?: unknown }).node
  if (target !== undefined && target !== node.name) return []
  return [structuredClone(obj)]
}
