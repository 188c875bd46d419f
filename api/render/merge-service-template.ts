/**
 * DPUServiceTemplate + DPUServiceConfiguration -> DPUService spec, as DPF's DPUDeployment controller builds each
 * service (`generateDPUService` in internal/dpuservice/controllers/dpudeployment_controller.go):
 *
 *   template.helmChart.source                         -> helmChart.source (the configuration has no source)
 *   configuration.helmChart.values OVER template's    -> helmChart.values (deep merge, configuration wins)
 *   configuration.serviceDaemonSet{labels,annotations}-> serviceDaemonSet (only when either is set)
 *   configuration.deployInCluster                     -> deployInCluster
 *   serviceID, interfaces                             -> given by the caller (they name DPUDeployment objects)
 *
 * The values merge is Helm's `coalesceTables` (DPF copies it as `utils.MergeMaps(config, template)`): a key only
 * in the template is taken; two tables merge recursively; otherwise the configuration's value stays, including
 * an explicit null and a list (lists are replaced whole, never concatenated); a template table never replaces
 * a configuration scalar, nor the other way round.
 */
import { isRecord } from '../is-record.js'
import type { DPUServiceConfigurationSpec, DPUServiceTemplateSpec } from '../resources/dpu-service-template.js'
import { RenderError } from './errors.js'

/** What a DPUService spec holds after the merge (the members DPF's generateDPUService sets). */
export interface MergedServiceSpec {
  helmChart: { source: DPUServiceTemplateSpec['helmChart']['source']; values?: Record<string, unknown> }
  serviceID?: string
  deployInCluster?: boolean
  interfaces?: string[]
  serviceDaemonSet?: { labels?: Record<string, string>; annotations?: Record<string, string> }
}

/** Helm's coalesceTables with `dst` authoritative; returns a new object and changes neither input. */
export function mergeHelmValues(dst: Record<string, unknown> | undefined, src: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (src === undefined) return dst === undefined ? undefined : structuredClone(dst)
  if (dst === undefined) return structuredClone(src)
  const out: Record<string, unknown> = structuredClone(dst)
  for (const [key, val] of Object.entries(src)) {
    if (!(key in out)) out[key] = structuredClone(val)
    else if (isRecord(val) && isRecord(out[key])) out[key] = mergeHelmValues(out[key], val)
    // Otherwise the destination's value stands (Helm only warns about a table meeting a non-table).
  }
  return out
}

/**
 * The DPUService spec DPF's DPUDeployment controller makes of one `spec.services` entry. Throws `api.render`
 * when the two name different `deploymentServiceName`s (DPF refuses such a pair as a prerequisite).
 * @example mergeServiceTemplate(hbnTemplate.spec, hbnConfig.spec, { serviceID: 'dpudeployment_ovn-hbn_hbn' })
 */
export function mergeServiceTemplate(template: DPUServiceTemplateSpec, configuration: DPUServiceConfigurationSpec, ids: { serviceID?: string; interfaces?: string[] } = {}): MergedServiceSpec {
  if (template.deploymentServiceName !== configuration.deploymentServiceName)
    throw new RenderError(`DPUServiceTemplate is for service "${template.deploymentServiceName}" but DPUServiceConfiguration is for "${configuration.deploymentServiceName}"`, {
      template: template.deploymentServiceName,
      configuration: configuration.deploymentServiceName,
    })
  const sc = configuration.serviceConfiguration
  const values = mergeHelmValues(sc?.helmChart?.values, template.helmChart.values)
  const { labels, annotations } = sc?.serviceDaemonSet ?? {}
  return {
    helmChart: { source: structuredClone(template.helmChart.source), ...(values === undefined ? {} : { values }) },
    ...(ids.serviceID === undefined ? {} : { serviceID: ids.serviceID }),
    ...(sc?.deployInCluster === undefined ? {} : { deployInCluster: sc.deployInCluster }),
    ...(ids.interfaces === undefined ? {} : { interfaces: [...ids.interfaces] }),
    ...(labels === undefined && annotations === undefined
      ? {}
      : { serviceDaemonSet: { ...(labels === undefined ? {} : { labels: { ...labels } }), ...(annotations === undefined ? {} : { annotations: { ...annotations } }) } }),
  }
}
