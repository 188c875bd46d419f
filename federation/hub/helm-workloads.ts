/**
 * What the appliance can run out of `helm template` output: the pod template of every DaemonSet, Deployment,
 * StatefulSet and Pod, and the data of the ConfigMaps those pods use (volumes, projected volumes, envFrom,
 * configMapKeyRef), inlined by name. Every other kind (Services, RBAC, CRDs...) is dropped: there is no
 * Kubernetes on the DPU for it to configure.
 */
import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { isRecord } from '../../api/is-record.js'
import { toFieldIssues } from '../../api/resources/issues.js'
import { HelmRenderError } from './errors.js'

/** The kinds whose pod template becomes a Service (Jobs and CronJobs are not services). */
export const WORKLOAD_KINDS = ['DaemonSet', 'Deployment', 'StatefulSet', 'Pod'] as const

const StringMapSchema = z.record(z.string(), z.string())

/** The part of a Kubernetes pod template the renderer reads; the rest passes through for the Service kind to judge. */
export const RenderedPodTemplateSchema = z.looseObject({
  metadata: z.looseObject({ labels: StringMapSchema.optional(), annotations: StringMapSchema.optional() }).optional(),
  spec: z.looseObject({
    containers: z.array(z.looseObject({ name: z.string().min(1) })).min(1, 'a pod template needs at least one container'),
  }),
})
export type RenderedPodTemplate = z.infer<typeof RenderedPodTemplateSchema>

export interface Workload {
  kind: (typeof WORKLOAD_KINDS)[number]
  name: string
  template: RenderedPodTemplate
  /** ConfigMaps this pod uses that the chart renders, by name: their `data`. */
  configMaps: Record<string, Record<string, string>>
}

/** Documents a chart may print before we refuse it (a DoS bound next to the byte cap in helm-run.ts). */
const MAX_DOCUMENTS = 1000

/** Names of the ConfigMaps a pod spec refers to, in order of first use. */
function configMapsUsedBy(spec: Record<string, unknown>): string[] {
  const names = new Set<string>()
  const add = (n: unknown): void => void (typeof n === 'string' && names.add(n))
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isRecord(v)) continue
    if (isRecord(v.configMap)) add(v.configMap.name)
    const sources = isRecord(v.projected) && Array.isArray(v.projected.sources) ? v.projected.sources : []
    for (const s of sources) if (isRecord(s) && isRecord(s.configMap)) add(s.configMap.name)
  }
  const containers = [...(Array.isArray(spec.initContainers) ? spec.initContainers : []), ...(Array.isArray(spec.containers) ? spec.containers : [])]
  for (const c of containers) {
    if (!isRecord(c)) continue
    for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) if (isRecord(e) && isRecord(e.configMapRef)) add(e.configMapRef.name)
    for (const e of Array.isArray(c.env) ? c.env : []) if (isRecord(e) && isRecord(e.valueFrom) && isRecord(e.valueFrom.configMapKeyRef)) add(e.valueFrom.configMapKeyRef.name)
  }
  return [...names]
}

/**
 * The workloads of a chart's output, in document order. Throws HelmRenderError: ChartOutputInvalid (YAML that
 * does not parse, a workload whose pod template is not one), NoPodTemplate (nothing runnable at all).
 */
export function extractWorkloads(text: string): Workload[] {
  const docs = parseAllDocuments(text)
  if (!Array.isArray(docs)) throw new HelmRenderError('ChartOutputInvalid', 'helm template printed no YAML documents')
  if (docs.length > MAX_DOCUMENTS) throw new HelmRenderError('ChartOutputInvalid', `helm template printed ${docs.length} documents; at most ${MAX_DOCUMENTS} are read`)
  const found: Array<{ kind: Workload['kind']; name: string; template: RenderedPodTemplate }> = []
  const configMaps = new Map<string, Record<string, string>>()
  for (const [i, doc] of docs.entries()) {
    const err = doc.errors[0]
    if (err) throw new HelmRenderError('ChartOutputInvalid', `helm template output, document ${i + 1}: ${err.message}`, { context: { document: i + 1 } })
    const obj: unknown = doc.toJS({ maxAliasCount: 100 })
    if (obj === null || obj === undefined) continue
    if (!isRecord(obj) || typeof obj.kind !== 'string')
      throw new HelmRenderError('ChartOutputInvalid', `helm template output, document ${i + 1}: not a Kubernetes object (no kind)`, { context: { document: i + 1 } })
    const name = isRecord(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : ''
    const where = `helm template output, document ${i + 1} (${obj.kind} ${name || '<no name>'})`
    if (obj.kind === 'ConfigMap') {
      const data = StringMapSchema.safeParse(obj.data ?? {})
      if (name && data.success) configMaps.set(name, data.data)
      continue
    }
    if (!(WORKLOAD_KINDS as readonly string[]).includes(obj.kind)) continue
    if (!name) throw new HelmRenderError('ChartOutputInvalid', `${where}: metadata.name is missing`, { context: { document: i + 1 } })
    const spec = isRecord(obj.spec) ? obj.spec : {}
    const raw = obj.kind === 'Pod' ? { metadata: obj.metadata, spec: obj.spec } : spec.template
    const base = obj.kind === 'Pod' ? '' : 'spec.template.'
    const parsed = RenderedPodTemplateSchema.safeParse(raw, { reportInput: true })
    if (!parsed.success)
      throw new HelmRenderError('ChartOutputInvalid', `${where}: not a pod template`, {
        context: { document: i + 1, kind: obj.kind, name },
        issues: toFieldIssues(parsed.error).map((x) => ({ ...x, path: `${base}${x.path}` })),
      })
    const template = parsed.data
    if (obj.kind === 'Pod' && template.metadata) {
      // A Pod's own metadata: only labels and annotations belong on a template.
      const { labels, annotations } = template.metadata
      template.metadata = { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }
    }
    found.push({ kind: obj.kind as Workload['kind'], name, template })
  }
  if (found.length === 0) throw new HelmRenderError('NoPodTemplate', `helm template printed no ${WORKLOAD_KINDS.join(', ')}: nothing to run on a DPU`)
  return found.map((w) => {
    const used: Record<string, Record<string, string>> = {}
    for (const n of configMapsUsedBy(w.template.spec)) {
      const data = configMaps.get(n)
      if (data) used[n] = data
    }
    return { ...w, configMaps: used }
  })
}
