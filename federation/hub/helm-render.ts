/**
 * DPUService -> one node-level `Service` per pod template its Helm chart renders, for every DPU its
 * `serviceDaemonSet.nodeSelector` (a corev1.NodeSelector) selects; DPUDeployment -> the DPUServices DPF generates
 * from its `services` (api/render/expand-deployment.ts), rendered the same way and delivered under the deployment.
 *
 *   prepare(fleet) ──(inputs changed)──> queue ──(≤ concurrency)──> helm template ──> extractWorkloads
 *        │                                                                               │
 *        └── build Services from the last good output + serviceID + interfaces <─────────┘
 *                                   │
 *   renderFor(obj) (the planner's synchronous render) reads the built Services; onChange tells the hub to replan.
 *
 * What it holds, per DPUService (by namespace/name): the latest fleet object, the hash of its helm inputs (chart
 * source, release, namespace, values), the last good helm output (persisted in the hub's SQLite, so a restarted
 * hub neither re-runs helm for unchanged inputs nor serves a DPU fewer Services while helm runs), the Services
 * built from it, and the `Rendered` condition. An entry is dropped when its DPUService leaves the fleet.
 *
 * helm runs once per distinct input, never per DPU, and never on the ack path: the planner only reads what is
 * built. A failing render (no helm, exit code, timeout, bad YAML, no pod template) sets `Rendered=False` and keeps
 * serving the Services last built, so a failing chart never turns into a delete on the DPUs.
 *
 * Per DPUDeployment it holds the DPUServices last generated from it (persisted like helm output, under
 * DEPLOYMENT_STORE) and its `PrerequisitesReady` condition (DPF's name). A deployment whose template or
 * configuration is missing (or written for another service) gets `PrerequisitesReady=False` with the reason and
 * keeps its last generated DPUServices, so DPUs keep their Services. A generated DPUService is an entry like a
 * hand-written one (its `Rendered` condition under its own key), except that its Services reach DPUs through the
 * DPUDeployment object the planner renders. A hand-written DPUService with the generated name wins; the deployment
 * says so (`DPUServiceNameConflict`).
 */
import { serviceFromPodTemplate } from '../../api/resources/pod-manifest.js'
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Condition } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { SVC_API_VERSION } from '../../api/resources/common.js'
import type { DPUServiceSpecSchema } from '../../api/resources/dpu-service.js'
import { expandDeploymentServices, RENDERED_FROM_ANNOTATION } from '../../api/render/index.js'
import { mergeHelmValues } from '../../api/render/merge-service-template.js'
import { DPUServiceSchema } from '../../api/resources/dpu-service.js'
import { matchesNodeSelector } from '../../api/resources/selector-match.js'
import { encodeCanonical } from '../wire/cbor.js'
import { silentLogger, type Logger } from '../wire/logger.js'
import { HelmRenderError } from './errors.js'
import { runHelmTemplate, type HelmRunLimits } from './helm-run.js'
import { extractWorkloads, RenderedPodTemplateSchema, WORKLOAD_KINDS, type RenderedPodTemplate, type Workload } from './helm-workloads.js'
import type { DpuNode, RenderFn } from './planner.js'
import { objectKey, type SnapshotStore } from './source.js'

type DPUServiceSpec = z.infer<typeof DPUServiceSpecSchema>

export const RENDERED_CONDITION = 'Rendered'
/** DPF's DPUDeployment condition for its templates and configurations being there (`ConditionPreReqsReady`). */
export const PREREQUISITES_CONDITION = 'PrerequisitesReady'
/** DPF's `DPFServiceIDLabelKey`: pods of a service carry its serviceID under this label. */
const SERVICE_ID_LABEL = 'svc.dpu.nvidia.com/service'

export interface HelmRendererOptions {
  /** The helm binary (`--helm PATH`); absent: every DPUService gets `Rendered=False, HelmNotConfigured`. */
  helmPath?: string | undefined
  /** A helm run is killed after this many ms (default 60 s: a chart pulled from a remote repository). */
  timeoutMs?: number
  /** A helm run printing more than this is killed (default 16 MiB). */
  maxOutputBytes?: number
  /** helm processes at once (default 2: the hub's budget is 2 cores). */
  concurrency?: number
  /** Backoff before a retryable failure (exit code, timeout) is tried again: doubles from min to max. */
  retryMs?: { min: number; max: number }
  logger?: Logger
}

/** A service interface as the node kind `Service` names it. */
export interface ServiceInterfaceRef {
  network: string
  interfaceName: string
}

/** What `buildServiceObject` takes: the arguments of api/resources/pod-manifest.ts `serviceFromPodTemplate`. */
export interface RenderedServiceArgs {
  name: string
  namespace: string
  serviceID: string
  template: RenderedPodTemplate
  interfaces?: ServiceInterfaceRef[]
  configMaps?: Record<string, Record<string, string>>
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/**
 * The one place a rendered pod template becomes the node kind `Service` (svc.dpu.nvidia.com/v1alpha1): validated
 * with field paths; its throw is reported as `Rendered=False, PodTemplateInvalid`.
 */
export function buildServiceObject(a: RenderedServiceArgs): ParsedObject {
  return serviceFromPodTemplate(a)
}

/** Persisted form of one render (hub SQLite, `source_snapshots` under HELM_STORE). */
const StoredRenderSchema = z.object({
  inputHash: z.string(),
  workloads: z.array(
    z.object({
      kind: z.enum(WORKLOAD_KINDS),
      name: z.string().min(1),
      template: RenderedPodTemplateSchema,
      configMaps: z.record(z.string(), z.record(z.string(), z.string())),
    }),
  ),
})
type HelmOutput = z.infer<typeof StoredRenderSchema>

/** The hub-db source name the last good renders are kept under. */
export const HELM_STORE = 'helm-renders'
/** The hub-db source name the DPUServices last generated per DPUDeployment are kept under. */
export const DEPLOYMENT_STORE = 'dpudeployment-services'

/** Per DPUDeployment (see the top of this file). */
interface DeploymentEntry {
  obj: ParsedObject
  /** The DPUServices last generated from it (null: never generated). */
  services: ParsedObject[] | null
  /** Hash of the generated DPUServices (persisted when it changes). */
  hash: string
  /** Hash of the entries rendered under it, and their selectors: a change means its DPUs' Services changed. */
  memberKey: string
  condition: Condition
}

interface Entry {
  obj: ParsedObject
  /** The DPUDeployment that generated `obj`; null for a DPUService of the fleet. */
  owner: ParsedObject | null
  /** Hash of the helm inputs of `obj`. */
  inputHash: string
  /** Last good helm output, possibly for older inputs (served until the current inputs render). */
  output: HelmOutput | null
  /** Why the current inputs did not render (null: rendered, or not tried yet). */
  failure: HelmRenderError | null
  /** Why Services could not be built from the output (interfaces, pod template). */
  buildFailure: HelmRenderError | null
  /** The render queued or running for `hash` (the latest inputs asked for; an older run may still finish). */
  running: { hash: string; done: Promise<void> } | null
  retry: NodeJS.Timeout | null
  attempts: number
  buildKey: string
  services: ParsedObject[]
  condition: Condition
}

const isDPUService = (obj: ParsedObject): boolean => obj.kind === 'DPUService' && obj.apiVersion === SVC_API_VERSION
const isDPUDeployment = (obj: ParsedObject): boolean => obj.kind === 'DPUDeployment' && obj.apiVersion === SVC_API_VERSION
const hashOf = (v: unknown): string => createHash('sha256').update(encodeCanonical(v)).digest('hex').slice(0, 32)

/** DPUService charts -> Services, cached per chart input; one per hub (see the top of this file). */
export class HelmRenderer {
  private readonly entries = new Map<string, Entry>()
  private readonly queue: Array<() => Promise<void>> = []
  private active = 0
  private store: SnapshotStore | null = null
  private stored = new Map<string, HelmOutput>()
  private readonly deployments = new Map<string, DeploymentEntry>()
  private deploymentStore: SnapshotStore | null = null
  private storedDeployments = new Map<string, ParsedObject[]>()
  private interfaces = new Map<string, ParsedObject>()
  private changed: (objs: ParsedObject[]) => void = () => {}
  private readonly limits: HelmRunLimits
  private readonly logger: Logger
  private stopped = false

  constructor(private readonly o: HelmRendererOptions = {}) {
    this.limits = { timeoutMs: o.timeoutMs ?? 60_000, maxOutputBytes: o.maxOutputBytes ?? 16 * 1024 * 1024 }
    this.logger = o.logger ?? silentLogger
  }

  /**
   * Where last good renders (and the DPUServices last generated per DPUDeployment) survive a hub restart; read
   * once, before the first prepare.
   */
  useStore(store: SnapshotStore, deployments?: SnapshotStore): void {
    if (deployments) {
      this.deploymentStore = deployments
      for (const [key, body] of deployments.load()) {
        let services: ParsedObject[] | null = null
        try {
          const parsed = z.array(DPUServiceSchema).safeParse(JSON.parse(body))
          if (parsed.success) services = parsed.data
        } catch {
          services = null
        }
        if (services) this.storedDeployments.set(key, services)
        else deployments.delete(key)
      }
    }
    this.store = store
    for (const [key, body] of store.load()) {
      let parsed: ReturnType<typeof StoredRenderSchema.safeParse>
      try {
        parsed = StoredRenderSchema.safeParse(JSON.parse(body))
      } catch {
        continue
      }
      if (parsed.success) this.stored.set(key, parsed.data)
      else store.delete(key)
    }
  }

  /** Called with the DPUServices whose Services changed after a render settled (the hub replans them). */
  onChange(fn: (objs: ParsedObject[]) => void): void {
    this.changed = fn
  }

  /** The planner's render: DPUServices and DPUDeployments from what was built here, every other object through `render`. */
  wrap(render: RenderFn): RenderFn {
    return (obj, node) => (isDPUService(obj) || isDPUDeployment(obj) ? this.renderFor(obj, node) : render(obj, node))
  }

  /**
   * The Services `node` gets from a DPUService or DPUDeployment now (the last good ones while a render runs or
   * fails): those of each DPUService whose `serviceDaemonSet.nodeSelector` selects the node.
   */
  renderFor(obj: ParsedObject, node: DpuNode): ParsedObject[] {
    const key = objectKey(obj)
    const entries = isDPUDeployment(obj)
      ? [...this.entries.values()].filter((e) => e.owner !== null && objectKey(e.owner) === key)
      : [this.entries.get(key)].filter((e) => e !== undefined && e.owner === null)
    return entries.filter((e) => matchesNodeSelector((e!.obj.spec as DPUServiceSpec).serviceDaemonSet?.nodeSelector, node)).flatMap((e) => e!.services.map((s) => structuredClone(s)))
  }

  /** `Rendered` of every DPUService (hand-written or generated) and `PrerequisitesReady` of every DPUDeployment, by object key. */
  conditions(): Record<string, Condition[]> {
    return Object.fromEntries([...[...this.entries].map(([k, e]): [string, Condition[]] => [k, [e.condition]]), ...[...this.deployments].map(([k, d]): [string, Condition[]] => [k, [d.condition]])])
  }

  /**
   * DPUDeployments -> the DPUServices to render for them (the last generated ones when generating fails now),
   * with their conditions set; deployments gone are forgotten. Returns the DPUServices with their owner.
   */
  private expandDeployments(fleet: readonly ParsedObject[]): Array<{ obj: ParsedObject; owner: ParsedObject }> {
    const byRef = new Map(
      fleet.filter((o) => o.kind === 'DPUServiceTemplate' || o.kind === 'DPUServiceConfiguration').map((o) => [`${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o]),
    )
    const handWritten = new Set(fleet.filter(isDPUService).map(objectKey))
    const out: Array<{ obj: ParsedObject; owner: ParsedObject }> = []
    const seen = new Set<string>()
    for (const dep of fleet) {
      if (!isDPUDeployment(dep)) continue
      const key = objectKey(dep)
      seen.add(key)
      let d = this.deployments.get(key)
      if (!d) {
        const stored = this.storedDeployments.get(key) ?? null
        d = { obj: dep, services: stored, hash: stored ? hashOf(stored) : '', memberKey: '', condition: pendingDeployment(dep) }
        this.deployments.set(key, d)
      }
      d.obj = dep
      const x = expandDeploymentServices(dep, (kind, ns, name) => byRef.get(`${kind}/${ns}/${name}`))
      if ('services' in x) {
        const hash = hashOf(x.services)
        if (hash !== d.hash) this.deploymentStore?.put(key, JSON.stringify(x.services))
        d.services = x.services
        d.hash = hash
      }
      const services = d.services ?? []
      const conflicts = services.filter((s) => handWritten.has(objectKey(s)))
      const keeping = services.length > 0 ? `; DPUs keep the Services of the ${services.length} DPUService(s) generated before` : ''
      let next: Pick<Condition, 'status' | 'reason' | 'message'>
      if ('problems' in x) next = { status: 'False', reason: x.problems[0]!.reason, message: `${x.problems.map((p) => p.message).join('; ')}${keeping}` }
      else if (conflicts.length > 0)
        next = {
          status: 'False',
          reason: 'DPUServiceNameConflict',
          message: `a DPUService of the fleet already has the generated name: ${conflicts.map((s) => s.metadata.name).join(', ')} (that one is rendered)`,
        }
      else next = { status: 'True', reason: 'PrerequisitesReady', message: services.length > 0 ? `generated DPUServices ${services.map((s) => s.metadata.name).join(', ')}` : 'no services' }
      d.condition = nextCondition(d.condition, next, dep)
      for (const s of services) if (!handWritten.has(objectKey(s))) out.push({ obj: s, owner: dep })
    }
    for (const key of [...this.deployments.keys()]) {
      if (seen.has(key)) continue
      this.deployments.delete(key)
      this.storedDeployments.delete(key)
      this.deploymentStore?.delete(key)
    }
    return out
  }

  /**
   * Takes a new fleet: builds what can be built now, queues helm for DPUServices whose inputs changed, forgets
   * those gone. Resolves when the renders it queued have settled (tests and the first fleet may wait on it).
   */
  prepare(fleet: readonly ParsedObject[]): Promise<void> {
    this.interfaces = new Map(fleet.filter((o) => o.kind === 'DPUServiceInterface' && o.apiVersion === SVC_API_VERSION).map((o) => [`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o]))
    const seen = new Set<string>()
    const waits: Promise<void>[] = []
    const changed: ParsedObject[] = []
    const services = [...fleet.filter(isDPUService).map((obj) => ({ obj, owner: null })), ...this.expandDeployments(fleet)]
    for (const { obj, owner } of services) {
      const spec = obj.spec as DPUServiceSpec
      // XXX: deployInCluster services run in the host cluster (DPF); nothing of them reaches a DPU.
      if (spec.deployInCluster === true) continue
      const key = objectKey(obj)
      seen.add(key)
      const inputHash = hashOf(this.helmInputs(obj))
      let e = this.entries.get(key)
      if (!e) {
        e = {
          obj,
          owner,
          inputHash,
          output: this.stored.get(key) ?? null,
          failure: null,
          buildFailure: null,
          running: null,
          retry: null,
          attempts: 0,
          buildKey: '',
          services: [],
          condition: pending(obj),
        }
        this.entries.set(key, e)
      }
      e.obj = obj
      e.owner = owner
      if (e.inputHash !== inputHash) {
        e.inputHash = inputHash
        e.failure = null
        e.attempts = 0
        if (e.retry) clearTimeout(e.retry)
        e.retry = null
      }
      if (this.build(e)) changed.push(owner ?? obj)
      if (e.output?.inputHash !== inputHash && e.failure === null && e.running?.hash !== inputHash) this.schedule(e)
      if (e.running) waits.push(e.running.done)
      this.setCondition(e)
    }
    for (const [key, e] of this.entries) {
      if (seen.has(key)) continue
      if (e.retry) clearTimeout(e.retry)
      this.entries.delete(key)
      this.stored.delete(key)
      this.store?.delete(key)
    }
    // A deployment whose set of DPUServices (or their selectors) changed renders differently even when no entry did.
    for (const d of this.deployments.values()) {
      const key = objectKey(d.obj)
      const members = [...this.entries.values()].filter((e) => e.owner !== null && objectKey(e.owner) === key)
      const memberKey = hashOf(members.map((e) => [objectKey(e.obj), (e.obj.spec as DPUServiceSpec).serviceDaemonSet?.nodeSelector ?? null]))
      if (memberKey !== d.memberKey) {
        d.memberKey = memberKey
        changed.push(d.obj)
      }
    }
    if (changed.length > 0) this.changed(changed)
    return Promise.all(waits).then(() => undefined)
  }

  /** Stops retry timers; renders in flight finish but change nothing. */
  stop(): void {
    this.stopped = true
    for (const e of this.entries.values()) if (e.retry) clearTimeout(e.retry)
  }

  /**
   * What helm sees, as DPF's DPUService controller hands it to Argo CD (`argoCDValuesFromDPUService`): the values
   * with `serviceDaemonSet` (its labels plus `svc.dpu.nvidia.com/service: <serviceID>`) merged over them, since
   * DPF charts label and annotate their pods from `.Values.serviceDaemonSet`. (DPF also adds the Multus networks
   * annotation there; here the appliance plugs interfaces itself, from `Service.spec.interfaces`.)
   */
  private helmInputs(obj: ParsedObject): { release: string; namespace: string; source: DPUServiceSpec['helmChart']['source']; values: Record<string, unknown> } {
    const spec = obj.spec as DPUServiceSpec
    const sds: Record<string, unknown> = { ...spec.serviceDaemonSet }
    if (spec.serviceID !== undefined) sds.labels = { ...spec.serviceDaemonSet?.labels, [SERVICE_ID_LABEL]: spec.serviceID }
    return {
      release: spec.helmChart.source.releaseName ?? obj.metadata.name,
      namespace: obj.metadata.namespace ?? 'default',
      source: spec.helmChart.source,
      values: mergeHelmValues({ serviceDaemonSet: sds }, spec.helmChart.values) ?? {},
    }
  }

  private schedule(e: Entry): void {
    const inputHash = e.inputHash
    const done = new Promise<void>((resolve) => {
      this.queue.push(async () => {
        try {
          await this.renderChart(e, inputHash)
        } finally {
          if (e.running?.hash === inputHash) e.running = null
          resolve()
        }
      })
    })
    e.running = { hash: inputHash, done }
    this.pump()
  }

  private pump(): void {
    while (this.active < (this.o.concurrency ?? 2) && this.queue.length > 0) {
      const job = this.queue.shift()!
      this.active++
      void job().finally(() => {
        this.active--
        this.pump()
      })
    }
  }

  private async renderChart(e: Entry, inputHash: string): Promise<void> {
    const key = objectKey(e.obj)
    const superseded = (): boolean => this.stopped || this.entries.get(key) !== e || e.inputHash !== inputHash
    // Queued behind newer inputs, or for an object gone: not worth a helm run.
    if (superseded()) return
    let output: HelmOutput | null = null
    let failure: HelmRenderError | null = null
    try {
      if (this.o.helmPath === undefined) throw new HelmRenderError('HelmNotConfigured', 'the hub has no helm binary (start it with --helm PATH): DPUService charts are not rendered')
      const text = await runHelmTemplate(this.o.helmPath, this.helmInputs(e.obj), this.limits)
      output = { inputHash, workloads: extractWorkloads(text) }
    } catch (err) {
      failure = err instanceof HelmRenderError ? err : new HelmRenderError('HelmFailed', `helm template failed: ${String(err)}`, { cause: err, retryable: true })
    }
    // A newer input, or the object's removal, superseded this run while helm ran: what it found is stale.
    if (superseded()) return
    e.running = null
    if (output) {
      e.output = output
      e.failure = null
      e.attempts = 0
      this.stored.set(key, output)
      this.store?.put(key, JSON.stringify(output))
    } else if (failure) {
      e.failure = failure
      this.logger.warn({ object: key, reason: failure.reason, err: failure.message }, 'DPUService chart not rendered; its last rendered Services stay')
      if (failure.retryable) this.retryLater(e)
    }
    const changed = this.build(e)
    this.setCondition(e)
    if (changed) this.changed([e.owner ?? e.obj])
  }

  private retryLater(e: Entry): void {
    const { min, max } = this.o.retryMs ?? { min: 10_000, max: 300_000 }
    const delay = Math.min(max, min * 2 ** e.attempts++)
    e.retry = setTimeout(() => {
      e.retry = null
      if (this.stopped || this.entries.get(objectKey(e.obj)) !== e) return
      e.failure = null
      this.schedule(e)
      this.setCondition(e)
    }, delay)
    e.retry.unref()
  }

  /** Rebuilds `e.services` from the last good output if anything it depends on changed; true if they changed. */
  private build(e: Entry): boolean {
    if (!e.output) return false
    const obj = e.obj
    const spec = obj.spec as DPUServiceSpec
    const namespace = obj.metadata.namespace ?? 'default'
    const serviceID = spec.serviceID ?? obj.metadata.name
    let interfaces: ServiceInterfaceRef[]
    try {
      interfaces = (spec.interfaces ?? []).map((n) => this.resolveInterface(namespace, n, serviceID))
    } catch (err) {
      e.buildFailure = err as HelmRenderError
      return false
    }
    const sds = spec.serviceDaemonSet
    const buildKey = hashOf({ out: e.output.inputHash, name: obj.metadata.name, namespace, serviceID, interfaces, labels: sds?.labels ?? null, annotations: sds?.annotations ?? null })
    if (buildKey === e.buildKey) {
      e.buildFailure = null
      return false
    }
    const many = e.output.workloads.length > 1
    let services: ParsedObject[]
    try {
      services = e.output.workloads.map((w: Workload) =>
        buildServiceObject({
          name: many ? `${obj.metadata.name}-${w.name}` : obj.metadata.name,
          namespace,
          serviceID,
          template: withMeta(w.template, sds?.labels, sds?.annotations),
          ...(interfaces.length ? { interfaces } : {}),
          ...(Object.keys(w.configMaps).length ? { configMaps: w.configMaps } : {}),
          annotations: { [RENDERED_FROM_ANNOTATION]: `DPUService/${namespace}/${obj.metadata.name}` },
        }),
      )
    } catch (err) {
      e.buildFailure = new HelmRenderError('PodTemplateInvalid', `a rendered pod template cannot run on the appliance: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      return false
    }
    e.buildFailure = null
    e.buildKey = buildKey
    const before = hashOf(e.services)
    e.services = services
    return hashOf(services) !== before
  }

  private resolveInterface(namespace: string, name: string, serviceID: string): ServiceInterfaceRef {
    const dsi = this.interfaces.get(`${namespace}/${name}`)
    const inner = (dsi?.spec as { template?: { spec?: { template?: { spec?: { interfaceType?: string; service?: { serviceID: string; network: string; interfaceName: string } } } } } } | undefined)
      ?.template?.spec?.template?.spec
    if (!dsi) throw new HelmRenderError('InterfaceNotFound', `interface ${name}: no DPUServiceInterface ${namespace}/${name}`, { context: { interface: name } })
    if (inner?.interfaceType !== 'service' || !inner.service)
      throw new HelmRenderError('InterfaceNotFound', `interface ${name}: DPUServiceInterface ${namespace}/${name} is not of interfaceType service`, { context: { interface: name } })
    if (inner.service.serviceID !== serviceID)
      throw new HelmRenderError('InterfaceNotFound', `interface ${name}: DPUServiceInterface ${namespace}/${name} belongs to serviceID "${inner.service.serviceID}", not "${serviceID}"`, {
        context: { interface: name },
      })
    return { network: inner.service.network, interfaceName: inner.service.interfaceName }
  }

  private setCondition(e: Entry): void {
    const current = e.output?.inputHash === e.inputHash
    const keeping = e.services.length > 0 ? `; DPUs keep the ${e.services.length} Service(s) rendered before` : ''
    const source = (e.obj.spec as DPUServiceSpec).helmChart.source
    const chart = `${source.chart ?? source.repoURL}@${source.version}`
    let next: Pick<Condition, 'status' | 'reason' | 'message'>
    if (e.failure) next = { status: 'False', reason: e.failure.reason, message: `${e.failure.message}${keeping}` }
    else if (e.buildFailure) next = { status: 'False', reason: e.buildFailure.reason, message: `${e.buildFailure.message}${keeping}` }
    else if (current) next = { status: 'True', reason: 'Rendered', message: `${chart} rendered into ${e.services.map((s) => s.metadata.name).join(', ')}` }
    else next = { status: 'Unknown', reason: 'Rendering', message: `helm template ${chart} is queued or running${keeping}` }
    e.condition = nextCondition(e.condition, next, e.obj)
  }
}

function pendingDeployment(obj: ParsedObject): Condition {
  return { ...pending(obj), type: PREREQUISITES_CONDITION, reason: 'Pending', message: 'not expanded yet' }
}

/** `next` as a condition of `obj`, keeping lastTransitionTime while the status stays. */
function nextCondition(prev: Condition, next: Pick<Condition, 'status' | 'reason' | 'message'>, obj: ParsedObject): Condition {
  const gen = obj.metadata.generation
  return {
    type: prev.type,
    ...next,
    lastTransitionTime: prev.status === next.status ? prev.lastTransitionTime : new Date().toISOString(),
    ...(gen === undefined ? {} : { observedGeneration: gen }),
  }
}

function pending(obj: ParsedObject): Condition {
  return {
    type: RENDERED_CONDITION,
    status: 'Unknown',
    reason: 'Rendering',
    message: 'not rendered yet',
    lastTransitionTime: new Date().toISOString(),
    ...(obj.metadata.generation === undefined ? {} : { observedGeneration: obj.metadata.generation }),
  }
}

/** The pod template with serviceDaemonSet labels and annotations added (DPF puts them on the service's pods). */
function withMeta(t: RenderedPodTemplate, labels: Record<string, string> | undefined, annotations: Record<string, string> | undefined): RenderedPodTemplate {
  const out = structuredClone(t)
  if (!labels && !annotations) return out
  out.metadata = {
    ...out.metadata,
    ...(labels || out.metadata?.labels ? { labels: { ...out.metadata?.labels, ...labels } } : {}),
    ...(annotations || out.metadata?.annotations ? { annotations: { ...out.metadata?.annotations, ...annotations } } : {}),
  }
  return out
}
