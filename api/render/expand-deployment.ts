/**
 * DPUDeployment.spec.services -> one DPUService per entry, as DPF's DPUDeployment controller generates them
 * (`getDependencies` + `generateDPUService` in internal/dpuservice/controllers/dpudeployment_controller.go):
 *
 *   services.<svc>.serviceTemplate       -> DPUServiceTemplate <name> in the deployment's namespace
 *   services.<svc>.serviceConfiguration  -> DPUServiceConfiguration <name> in the deployment's namespace
 *   both merged (mergeServiceTemplate, configuration wins)  -> DPUService `<deployment>-<svc>`,
 *        serviceID `dpudeployment_<deployment>_<svc>`, label
 *        `svc.dpu.nvidia.com/owned-by-dpudeployment: <namespace>_<deployment>`
 *   dpus.dpuSets[].nodeSelector (ORed)   -> serviceDaemonSet.nodeSelector (which DPUs get the service)
 *
 * All or nothing, as DPF's prerequisites are: a missing template or configuration, or one written for another
 * service (`deploymentServiceName`), fails the whole deployment with a reason, and the caller keeps what it
 * generated before.
 *
 * Where DPU selection differs from DPF: DPF turns each dpuSet into a DPUSet over host nodes, labels the DPU nodes
 * it provisions (`owned-by-dpudeployment`, `dpuservice-<svc>-version`) and selects those. Here a DPU's labels
 * (hub registry or hello) stand for its host node's, so each dpuSet's LabelSelector becomes one NodeSelectorTerm
 * over the DPU's labels; `dpuSelector` (which DPU of a multi-DPU host) is not evaluated.
 *
 * XXX(#17): BFB, flavor, DPUSets, service chains, the DPUServiceInterfaces DPF generates from the configuration's
 * `interfaces`, resource fitting, version matching and rollout of a DPUDeployment are issue #17; the services
 * generated here carry no `interfaces` until those DPUServiceInterfaces exist.
 */
import type { LabelSelector, NodeSelector, NodeSelectorTerm } from '../resources/common.js'
import { SVC_API_VERSION } from '../resources/common.js'
import { DPUDeploymentSpecSchema } from '../resources/dpu-deployment.js'
import { DPUServiceSchema } from '../resources/dpu-service.js'
import { DPUServiceConfigurationSpecSchema, DPUServiceTemplateSpecSchema } from '../resources/dpu-service-template.js'
import type { ParsedObject } from '../resources/kind.js'
import { mergeServiceTemplate } from './merge-service-template.js'
import { RENDERED_FROM_ANNOTATION } from './render-for-node.js'

/** DPF's `ParentDPUDeploymentNameLabel`, value `<namespace>_<name>` of the owning DPUDeployment. */
const OWNED_BY_DPUDEPLOYMENT_LABEL = 'svc.dpu.nvidia.com/owned-by-dpudeployment'

export type DeploymentProblemReason = 'TemplateNotFound' | 'ConfigurationNotFound' | 'ServiceNameMismatch' | 'SpecInvalid'

export interface DeploymentProblem {
  reason: DeploymentProblemReason
  message: string
}

export type DeploymentExpansion = { services: ParsedObject[] } | { problems: DeploymentProblem[] }

/** Finds a fleet object by kind, namespace and name (the caller indexes its fleet). */
export type FleetLookup = (kind: 'DPUServiceTemplate' | 'DPUServiceConfiguration', namespace: string, name: string) => ParsedObject | undefined

/** DPF's `getServiceID`. */
export function deploymentServiceID(deployment: string, service: string): string {
  return `dpudeployment_${deployment}_${service}`
}

/** One dpuSet's metav1.LabelSelector as a corev1.NodeSelectorTerm over the same labels; null: it selects every DPU. */
function termOf(selector: LabelSelector | undefined): NodeSelectorTerm | null {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'In' as const, values: [value] }))
  const exprs = [...labels, ...(selector?.matchExpressions ?? []).map((r) => ({ ...r, ...(r.values ? { values: [...r.values] } : {}) }))]
  return exprs.length === 0 ? null : { matchExpressions: exprs }
}

/**
 * Which DPUs a deployment's services go to: the union of its dpuSets' selectors. Absent when some dpuSet selects
 * every DPU; no terms (no DPU) when it has no dpuSets, since DPF then provisions no DPU for it.
 */
export function computeDeploymentNodeSelector(dpuSets: ReadonlyArray<{ nodeSelector?: LabelSelector | undefined }> | undefined): NodeSelector | undefined {
  const terms: NodeSelectorTerm[] = []
  for (const set of dpuSets ?? []) {
    const term = termOf(set.nodeSelector)
    if (term === null) return undefined
    terms.push(term)
  }
  return { nodeSelectorTerms: terms }
}

const refOf = (o: ParsedObject): string => `${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`

/**
 * The DPUServices a DPUDeployment generates, or every reason it cannot (pure; inputs are not changed).
 * @example expandDeploymentServices(ovnHbn, (kind, ns, name) => index.get(`${kind}/${ns}/${name}`))
 */
export function expandDeploymentServices(deployment: ParsedObject, lookup: FleetLookup): DeploymentExpansion {
  const namespace = deployment.metadata.namespace ?? 'default'
  const name = deployment.metadata.name
  const parsed = DPUDeploymentSpecSchema.safeParse(deployment.spec)
  if (!parsed.success)
    return { problems: [{ reason: 'SpecInvalid', message: `${refOf(deployment)}: spec is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` }] }
  const spec = parsed.data
  const nodeSelector = computeDeploymentNodeSelector(spec.dpus.dpuSets)
  const problems: DeploymentProblem[] = []
  const services: ParsedObject[] = []
  for (const svc of Object.keys(spec.services ?? {}).sort()) {
    const entry = spec.services![svc]!
    const template = lookup('DPUServiceTemplate', namespace, entry.serviceTemplate)
    const configuration = lookup('DPUServiceConfiguration', namespace, entry.serviceConfiguration)
    if (template === undefined) problems.push({ reason: 'TemplateNotFound', message: `service "${svc}": DPUServiceTemplate ${namespace}/${entry.serviceTemplate} not found` })
    if (configuration === undefined) problems.push({ reason: 'ConfigurationNotFound', message: `service "${svc}": DPUServiceConfiguration ${namespace}/${entry.serviceConfiguration} not found` })
    if (template === undefined || configuration === undefined) continue
    const t = DPUServiceTemplateSpecSchema.safeParse(template.spec)
    const c = DPUServiceConfigurationSpecSchema.safeParse(configuration.spec)
    if (!t.success || !c.success) {
      problems.push({ reason: 'SpecInvalid', message: `service "${svc}": ${!t.success ? refOf(template) : refOf(configuration)} spec is not valid` })
      continue
    }
    // DPF: "service in DPUServiceTemplate <ns/name> doesn't match requested service in DPUDeployment".
    const mismatched = [t.data.deploymentServiceName !== svc ? template : null, c.data.deploymentServiceName !== svc ? configuration : null].filter((o) => o !== null)
    if (mismatched.length > 0) {
      for (const o of mismatched)
        problems.push({ reason: 'ServiceNameMismatch', message: `service "${svc}": ${refOf(o)} has deploymentServiceName "${(o.spec as { deploymentServiceName: string }).deploymentServiceName}"` })
      continue
    }
    const merged = mergeServiceTemplate(t.data, c.data, { serviceID: deploymentServiceID(name, svc) })
    const sds = merged.serviceDaemonSet ?? {}
    const obj = {
      apiVersion: SVC_API_VERSION,
      kind: 'DPUService',
      metadata: {
        name: `${name}-${svc}`,
        namespace,
        labels: { [OWNED_BY_DPUDEPLOYMENT_LABEL]: `${namespace}_${name}` },
        annotations: { [RENDERED_FROM_ANNOTATION]: refOf(deployment) },
      },
      spec: { ...merged, ...(nodeSelector === undefined && merged.serviceDaemonSet === undefined ? {} : { serviceDaemonSet: { ...sds, ...(nodeSelector ? { nodeSelector } : {}) } }) },
    }
    const valid = DPUServiceSchema.safeParse(obj)
    if (!valid.success) {
      problems.push({
        reason: 'SpecInvalid',
        message: `service "${svc}": the DPUService generated for it is not valid: ${valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      })
      continue
    }
    services.push(valid.data)
  }
  return problems.length > 0 ? { problems } : { services }
}
