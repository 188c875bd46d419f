/**
 * The services pass: Service objects -> pods in a runtime backend, level-triggered. Each pass reads the store and
 * what every backend owns, then per Service (oldest first):
 *
 *   conflicts      two Services with one serviceID (they would claim the same interfaces): the older one runs
 *   fit            requests against the flavor's dpuResources - systemReservedResources (ResourceFitting, per DPU)
 *   image          present locally (no registry is assumed reachable): ImagePullFailed otherwise
 *   sandbox        the pod's network namespace, reachable as svc-<serviceID> for the ports pass to plug into
 *   interfaces     every ServiceInterface of the service Ready (veth in the namespace, port on its bridge)
 *   containers     started once the interfaces are there; an exited one restarts per restartPolicy with
 *                  exponential backoff (CrashLoopBackOff), a failed liveness probe restarts it
 *   replace        a pod whose spec hash differs is replaced, one service per pass
 *
 * Pods the backend owns that no Service wants are removed. A pod found running after an appliance restart is
 * adopted as it is: same hash, nothing restarts. A Service that cannot start (bad image, no fit) leaves an
 * older pod of it running: bad input never takes a working service down.
 */
import { z } from 'zod'
import type { StoredObject } from '../../api/meta.js'
import { backoffDelay, type BackoffOptions } from '../../api/support/backoff.js'
import type { Logger } from '../observe/index.js'
import type { Store } from '../store/index.js'
import { readNodeObjects } from '../reconcile/node-objects.js'
import { writeReady } from '../reconcile/status.js'
import type { ExecResult, LogOptions, RuntimePodSpec, RuntimePodState, ServiceRuntime } from '../runtime/services/runtime.js'
import { ServiceOperationError } from './errors.js'
import { serviceNetnsName } from '../runtime/ports/index.js'
import { ignoredPodFields } from '../../api/resources/service.js'
import { planPod, type PodPlanSettings } from './pod-plan.js'
import { ContainerProbes } from './probes.js'
import { fitServices, podRequests } from './resource-fit.js'
import type { ServiceSpecView } from './service-view.js'

export type RuntimeName = 'podman' | 'process'

export interface ServicesDeps {
  store: Store
  nodeName: string
  log: Logger
  runtimes: Partial<Record<RuntimeName, ServiceRuntime>>
  defaultRuntime: RuntimeName
  /** Prepended to `svc-<serviceID>` (must match the ports pass's `serviceNetnsPrefix`). */
  netnsPrefix?: string
  pods: PodPlanSettings
  /** The ports pass plugs interfaces into a sandbox once it exists. */
  triggerPorts: () => void
  /** Run this pass again (a backoff or a probe verdict is due). */
  trigger: (reason: string) => void
  /** The active flavor (resource fitting); undefined: nothing is limited. */
  flavor: () => StoredObject | undefined
  backoff?: BackoffOptions
  /** A container that ran this long before exiting starts its backoff over. */
  stableRunMs?: number
}

/** Meta key: the backends that may hold pods of this appliance (JSON array), so orphans are found after a restart. */
export const RUNTIMES_IN_USE_META_KEY = 'services.runtimes-in-use'
const RUNTIME_NAMES: readonly RuntimeName[] = ['podman', 'process']
const RuntimesInUseSchema = z.array(z.string())

function readRuntimesInUse(store: Store): Set<RuntimeName> {
  const raw = store.meta.get(RUNTIMES_IN_USE_META_KEY)
  if (raw === undefined) return new Set()
  let parsed: z.infer<typeof RuntimesInUseSchema>
  try {
    parsed = RuntimesInUseSchema.parse(JSON.parse(raw))
  } catch {
    // Unreadable record: assume every backend may hold something (listing costs little; missing an orphan leaks).
    return new Set(RUNTIME_NAMES)
  }
  return new Set(RUNTIME_NAMES.filter((n) => parsed.includes(n)))
}

function writeRuntimesInUse(store: Store, before: ReadonlySet<RuntimeName>, now: ReadonlySet<RuntimeName>): void {
  if (before.size === now.size && [...now].every((n) => before.has(n))) return
  if (now.size === 0) store.meta.delete(RUNTIMES_IN_USE_META_KEY)
  else store.meta.set(RUNTIMES_IN_USE_META_KEY, JSON.stringify([...now].sort()))
}

/** Orphaned pods removed at once. */
const GC_CONCURRENCY = 8

/** Runs `fn` over `items`, at most `n` at a time. */
async function inBatches<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, jitter: 'equal' }
const STABLE_RUN_MS = 60_000

/** Per container: restarts and the backoff schedule (kept across passes; restarts also in status). */
interface ContainerMemory {
  restarts: number
  /** Consecutive quick exits: the backoff attempt. */
  attempt: number
  nextStartAt?: number
  lastReason?: string
  probes?: ContainerProbes
  /** `startedAt` of the run the probes watch. */
  probesFor?: string
}

interface ServiceMemory {
  containers: Map<string, ContainerMemory>
}

const keyOf = (o: StoredObject) => `${o.metadata.namespace}/${o.metadata.name}`

function creationOrder(a: StoredObject, b: StoredObject): number {
  const ta = a.metadata.creationTimestamp ?? ''
  const tb = b.metadata.creationTimestamp ?? ''
  return ta < tb ? -1 : ta > tb ? 1 : keyOf(a).localeCompare(keyOf(b))
}

export class ServicesReconciler {
  private readonly memory = new Map<string, ServiceMemory>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** Backends this process has listed once: they keep being listed, so a pod left behind there is removed. */
  private readonly usedRuntimes = new Set<RuntimeName>()
  private readonly unwatch: Array<() => void> = []
  private readonly images = new Map<string, Promise<boolean>>()
  private stopped = false

  constructor(private readonly deps: ServicesDeps) {}

  netnsOf(serviceID: string): string {
    return serviceNetnsName(serviceID, this.deps.netnsPrefix)
  }

  stop(): void {
    this.stopped = true
    for (const u of this.unwatch.splice(0)) u()
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    for (const m of this.memory.values()) for (const c of m.containers.values()) c.probes?.stop()
  }

  /** The runtime a Service runs on and, when it is not configured, why not. */
  private runtimeFor(spec: ServiceSpecView): [RuntimeName, ServiceRuntime | undefined] {
    const name = spec.runtime ?? this.deps.defaultRuntime
    return [name, this.deps.runtimes[name]]
  }

  async pass(): Promise<void> {
    const { store, nodeName } = this.deps
    const objs = readNodeObjects(store, nodeName)
    const services = [...objs.services].sort(creationOrder)
    // One image check per image and pass (an image loaded meanwhile is seen by the next pass).
    this.images.clear()

    // What every backend owns; a backend that cannot be read is left alone (never a reason to delete).
    const pods = new Map<string, { runtime: RuntimeName; state: RuntimePodState }>()
    const unreadable = new Set<RuntimeName>()
    // A backend no Service uses is not asked (podman's API service would be started just to say "nothing"), so an
    // appliance without services starts nothing. Once asked, it is listed on every pass (orphans are collected).
    // Backends that may hold our pods are also persisted: after a restart, a pod whose Service was deleted while the
    // appliance was down is found and removed even when no Service uses its backend any more.
    const wantedRuntimes = new Set<RuntimeName>(services.map((s) => (s.spec as unknown as ServiceSpecView).runtime ?? this.deps.defaultRuntime))
    const persisted = readRuntimesInUse(store)
    const used = new Set<RuntimeName>([...wantedRuntimes, ...this.usedRuntimes, ...persisted])
    for (const [name, rt] of Object.entries(this.deps.runtimes) as Array<[RuntimeName, ServiceRuntime]>) {
      if (!used.has(name)) continue
      if (!this.usedRuntimes.has(name)) {
        this.usedRuntimes.add(name)
        // A container's exit (or any change in the backend) brings the next pass.
        this.unwatch.push(rt.watch(() => this.deps.trigger(`runtime:${name}`)))
      }
      try {
        for (const state of await rt.list()) pods.set(state.key, { runtime: name, state })
      } catch (err) {
        unreadable.add(name)
        this.deps.log.warn({ runtime: name, err: (err as Error).message }, 'runtime backend cannot be read; its services keep running as they are')
      }
    }
    // Recorded before any pod is created in this pass; a backend is forgotten once it lists none of our pods.
    const holding = new Set<RuntimeName>(wantedRuntimes)
    for (const name of unreadable) if (persisted.has(name)) holding.add(name)
    for (const { runtime } of pods.values()) holding.add(runtime)
    // A backend not configured in this run (podman missing, --service-runtime none) may still hold pods: keep it.
    for (const name of persisted) if (this.deps.runtimes[name] === undefined) holding.add(name)
    writeRuntimesInUse(store, persisted, holding)

    // One serviceID, one Service: the older claims its interfaces.
    const claimedBy = new Map<string, string>()
    for (const s of services) {
      const id = (s.spec as unknown as ServiceSpecView).serviceID
      if (!claimedBy.has(id)) claimedBy.set(id, keyOf(s))
    }
    const flavor = this.deps.flavor()
    const fSpec = flavor?.spec as { dpuResources?: Record<string, string | number>; systemReservedResources?: Record<string, string | number> } | undefined
    const fit = fitServices(
      fSpec?.dpuResources,
      fSpec?.systemReservedResources,
      services
        .filter((s) => claimedBy.get((s.spec as unknown as ServiceSpecView).serviceID) === keyOf(s))
        .map((s) => ({ key: keyOf(s), requests: podRequests((s.spec as unknown as ServiceSpecView).template.spec.containers) })),
    )

    let replacing = false
    const wanted = new Set<string>()
    for (const svc of services) {
      const key = keyOf(svc)
      wanted.add(key)
      try {
        replacing = (await this.reconcileOne(svc, objs.interfaces, pods.get(key), claimedBy, fit.rejected, replacing, unreadable)) || replacing
      } catch (err) {
        this.deps.log.warn({ service: key, err: (err as Error).message }, 'service reconcile failed')
        writeReady(store, svc, { ready: false, reason: 'RuntimeError', message: (err as Error).message, phase: 'Pending' })
      }
    }
    // Pods no Service wants, several at once: each may wait its grace period for a process ignoring SIGTERM.
    const orphans = [...pods].filter(([key]) => !wanted.has(key))
    await inBatches(orphans, GC_CONCURRENCY, async ([key, pod]) => {
      this.forget(key)
      await this.deps.runtimes[pod.runtime]!.removePod(key, 10_000)
      this.deps.log.info({ service: key, runtime: pod.runtime }, 'service pod removed (its Service is gone)')
    })
    if (orphans.length > 0) {
      this.deps.triggerPorts()
      // The next pass sees the backend without them (and forgets a backend that holds nothing of ours now).
      this.deps.trigger('orphans removed')
    }
    for (const key of [...this.memory.keys()]) if (!wanted.has(key)) this.forget(key)
  }

  /** The backend running `key`'s pod now, and the container to address (default: the only or first one). */
  private async locate(key: string, container: string | undefined): Promise<{ runtime: ServiceRuntime; container: string; state: RuntimePodState }> {
    for (const runtimeName of this.usedRuntimes) {
      const rt = this.deps.runtimes[runtimeName]!
      const state = (await rt.list()).find((p) => p.key === key)
      if (!state) continue
      const name = container ?? state.containers[0]?.name
      if (name === undefined || !state.containers.some((c) => c.name === name))
        throw new ServiceOperationError('service.container-not-found', `service ${key} has no container ${JSON.stringify(container)} (containers: ${state.containers.map((c) => c.name).join(', ')})`, {
          service: key,
          container,
        })
      return { runtime: rt, container: name, state }
    }
    throw new ServiceOperationError('service.not-running', `service ${key} has no pod on this DPU (not created yet, or it cannot start: see its Ready condition)`, { service: key })
  }

  /** A container's output (`dpuctl logs`). */
  async logs(key: string, container: string | undefined, options: LogOptions): Promise<{ container: string; stream: AsyncIterable<Buffer> }> {
    const at = await this.locate(key, container)
    return { container: at.container, stream: at.runtime.logs(key, at.container, options) }
  }

  /** Runs a command in a running container (`dpuctl exec`). */
  async exec(key: string, container: string | undefined, argv: readonly string[], timeoutMs: number): Promise<ExecResult & { container: string }> {
    const at = await this.locate(key, container)
    const cs = at.state.containers.find((c) => c.name === at.container)
    if (cs?.state !== 'running')
      throw new ServiceOperationError('service.not-running', `container ${at.container} of service ${key} is ${cs?.state ?? 'absent'}, not running`, { service: key, container: at.container })
    return { ...(await at.runtime.exec(key, at.container, argv, timeoutMs)), container: at.container }
  }

  /**
   * Restarts every container of the service in its sandbox (`dpuctl restart`): the network namespace, its
   * interfaces and their ofports stay, so chain flows are untouched. Counts as a restart in status.
   */
  async restart(key: string, graceMs = 10_000): Promise<string[]> {
    const at = await this.locate(key, undefined)
    const names = at.state.containers.map((c) => c.name)
    const mem = this.memoryOf(key)
    for (const name of names) {
      await at.runtime.stopContainer(key, name, graceMs)
      const cm = mem.containers.get(name)
      if (cm) {
        cm.probes?.stop()
        cm.probes = undefined
        cm.probesFor = undefined
        // Asked for, not crashed: start at once, without backoff.
        cm.nextStartAt = 0
        cm.attempt = 0
        cm.lastReason = 'Restarted'
      }
    }
    this.deps.trigger('restart')
    return names
  }

  private forget(key: string): void {
    const m = this.memory.get(key)
    if (m) for (const c of m.containers.values()) c.probes?.stop()
    this.memory.delete(key)
    const t = this.timers.get(key)
    if (t) clearTimeout(t)
    this.timers.delete(key)
  }

  private event(svc: StoredObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.deps.store.events.append({ type, reason, message, object: { apiVersion: svc.apiVersion, kind: svc.kind, namespace: svc.metadata.namespace, name: svc.metadata.name, uid: svc.metadata.uid } })
  }

  /** Wake the loop at `at` (one timer per service: the earliest due). */
  private wakeAt(key: string, at: number, reason: string): void {
    const existing = this.timers.get(key) as (NodeJS.Timeout & { dueAt?: number }) | undefined
    if (existing?.dueAt !== undefined && existing.dueAt <= at) return
    if (existing) clearTimeout(existing)
    const t = setTimeout(
      () => {
        this.timers.delete(key)
        if (!this.stopped) this.deps.trigger(reason)
      },
      Math.max(0, at - Date.now()),
    ) as NodeJS.Timeout & { dueAt?: number }
    t.dueAt = at
    this.timers.set(key, t)
  }

  /** Returns true when it replaced a pod (one replacement per pass). */
  private async reconcileOne(
    svc: StoredObject,
    allInterfaces: readonly StoredObject[],
    pod: { runtime: RuntimeName; state: RuntimePodState } | undefined,
    claimedBy: ReadonlyMap<string, string>,
    notFitting: ReadonlyMap<string, string>,
    replacingAlready: boolean,
    unreadable: ReadonlySet<RuntimeName>,
  ): Promise<boolean> {
    const { store } = this.deps
    const key = keyOf(svc)
    const spec = svc.spec as unknown as ServiceSpecView
    const [runtimeName, runtime] = this.runtimeFor(spec)
    const netns = this.netnsOf(spec.serviceID)
    const interfaces = matchInterfaces(spec, allInterfaces, svc.metadata.namespace)
    const base = { runtime: runtimeName, netns, interfaces: interfaces.status }
    const notReady = (reason: string, message: string, phase = 'Pending') => {
      writeReady(store, svc, { ready: false, reason, message, phase, extra: { ...base, ...this.containerStatus(svc, pod?.state) } })
      return false
    }

    if (claimedBy.get(spec.serviceID) !== key)
      return notReady('InterfaceConflict', `serviceID ${spec.serviceID} is already run by Service ${claimedBy.get(spec.serviceID)}: two services cannot claim the same interfaces`)
    if (!runtime) return notReady('RuntimeUnavailable', `runtime ${runtimeName} is not configured on this appliance (configured: ${Object.keys(this.deps.runtimes).sort().join(', ') || 'none'})`)
    if (unreadable.has(runtimeName)) return notReady('RuntimeUnavailable', `runtime ${runtimeName} cannot be read; the service keeps running as it is`)
    if (pod && pod.runtime !== runtimeName) {
      // Moving between backends is a replacement like any other.
      if (replacingAlready) return notReady('Replacing', 'waiting for another service to finish its replacement')
      await this.deps.runtimes[pod.runtime]!.removePod(key, graceMs(spec))
      this.forget(key)
      this.event(svc, 'Normal', 'Replaced', `moved from runtime ${pod.runtime} to ${runtimeName}`)
      this.deps.trigger('service-replaced')
      return true
    }
    const misfit = notFitting.get(key)
    if (misfit) return notReady('ResourcesDoNotFit', misfit)
    for (const c of spec.template.spec.containers) {
      let present = this.images.get(`${runtimeName}|${c.image}`)
      if (present === undefined) this.images.set(`${runtimeName}|${c.image}`, (present = runtime.hasImage(c.image)))
      if (!(await present)) {
        if (pod)
          return notReady(
            'ImagePullFailed',
            `container ${c.name}: image ${c.image} is not present on this DPU (no registry is reachable; load it with podman load/import); the running pod keeps its previous spec`,
            'Running',
          )
        return notReady('ImagePullFailed', `container ${c.name}: image ${c.image} is not present on this DPU (no registry is reachable; load it with podman load/import)`)
      }
    }

    const plan = planPod(svc, netns, this.deps.pods)
    if (pod && pod.state.specHash !== plan.specHash) {
      if (replacingAlready) return notReady('Replacing', 'waiting for another service to finish its replacement', 'Running')
      this.event(svc, 'Normal', 'Replacing', `spec changed (hash ${pod.state.specHash} -> ${plan.specHash}): replacing the pod`)
      await runtime.removePod(key, graceMs(spec))
      this.forget(key)
      this.deps.triggerPorts()
      this.deps.trigger('service-replaced')
      return true
    }
    if (!pod || !pod.state.sandboxReady) {
      // Say what is under way: a backend under load can take a while, and "not reconciled yet" would hide why.
      if (!pod) {
        notReady('Creating', `creating the pod sandbox (network namespace ${netns}) on ${runtimeName}`)
        const ignored = ignoredPodFields(spec)
        if (ignored.length > 0) this.event(svc, 'Normal', 'FieldsIgnored', `scheduling-only fields mean nothing on one DPU and are ignored: ${ignored.join(', ')}`)
      }
      await runtime.ensureSandbox(plan)
      this.event(svc, 'Normal', 'SandboxReady', `network namespace ${netns} (${runtimeName})`)
      this.deps.triggerPorts()
    }
    if (interfaces.missing.length > 0) return notReady('InterfacesNotReady', interfaces.missing.join('; '))
    if (interfaces.pending.length > 0) return notReady('InterfacesNotReady', `waiting for ${interfaces.pending.join(', ')}`)

    // A pass that started or stopped a container triggers the next one, whose single list() gives the status: no
    // list per service here (50 services would make each pass list 50 times).
    if (!(await this.runContainers(svc, spec, plan, runtime, pod?.state))) this.writeStatus(svc, spec, pod?.state, base)
    return false
  }

  private memoryOf(key: string): ServiceMemory {
    let m = this.memory.get(key)
    if (!m) {
      m = { containers: new Map() }
      this.memory.set(key, m)
    }
    return m
  }

  /** Starts what should run; restarts with backoff what exited or failed its liveness probe. */
  /** Returns whether it started or stopped a container (the state read before is stale then). */
  private async runContainers(svc: StoredObject, spec: ServiceSpecView, plan: RuntimePodSpec, runtime: ServiceRuntime, state: RuntimePodState | undefined): Promise<boolean> {
    let changed = false
    const key = plan.key
    const mem = this.memoryOf(key)
    const policy = spec.template.spec.restartPolicy ?? 'Always'
    const prior = (svc.status as { containers?: Array<{ name: string; restartCount?: number }> }).containers ?? []
    for (const c of spec.template.spec.containers) {
      let cm = mem.containers.get(c.name)
      if (!cm) {
        // Restart counts survive an appliance restart through the status.
        cm = { restarts: prior.find((p) => p.name === c.name)?.restartCount ?? 0, attempt: 0 }
        mem.containers.set(c.name, cm)
      }
      const cs = state?.containers.find((x) => x.name === c.name)
      if (cs?.state === 'running') {
        if (cm.probesFor !== cs.startedAt) {
          cm.probes?.stop()
          cm.probes = new ContainerProbes({ runtime, key, container: c, netns: plan.netnsName }, () => this.deps.trigger('probe'))
          cm.probesFor = cs.startedAt
        }
        const failed = cm.probes?.failed()
        if (failed) {
          this.event(svc, 'Warning', 'Unhealthy', `container ${c.name}: ${failed.kind} probe failed: ${failed.message}; restarting it`)
          cm.lastReason = failed.kind === 'liveness' ? 'LivenessProbeFailed' : 'StartupProbeFailed'
          cm.probes?.stop()
          cm.probes = undefined
          cm.probesFor = undefined
          await runtime.stopContainer(key, c.name, graceMs(spec))
          changed = true
          this.deps.trigger('liveness-restart')
        }
        continue
      }
      cm.probes?.stop()
      cm.probes = undefined
      cm.probesFor = undefined
      if (cs === undefined || cs.state === 'created' || cs.state === 'unknown') {
        await runtime.startContainer(plan, c.name)
        changed = true
        this.event(svc, 'Normal', 'Started', `container ${c.name} started (${runtime.name})`)
        // The next pass sees it running and attaches its probes.
        this.deps.trigger('container-started')
        continue
      }
      // exited
      const code = cs.exitCode ?? -1
      // A restart asked for (`dpuctl restart`) runs whatever the policy says about exits.
      const requested = cm.nextStartAt === 0
      if (!requested && (policy === 'Never' || (policy === 'OnFailure' && code === 0))) continue
      const finished = cs.finishedAt ? Date.parse(cs.finishedAt) : Date.now()
      const ranMs = cs.startedAt ? finished - Date.parse(cs.startedAt) : 0
      if (cm.nextStartAt === undefined) {
        if (ranMs >= (this.deps.stableRunMs ?? STABLE_RUN_MS)) cm.attempt = 0
        cm.nextStartAt = finished + backoffDelay(cm.attempt, this.deps.backoff ?? DEFAULT_BACKOFF)
        cm.lastReason ??= code === 0 ? 'Completed' : 'Error'
        this.event(svc, 'Warning', 'BackOff', `container ${c.name} exited with ${code}; restarting in ${Math.max(0, cm.nextStartAt - Date.now())} ms`)
      }
      if (Date.now() < cm.nextStartAt) {
        this.wakeAt(key, cm.nextStartAt, 'backoff')
        continue
      }
      await runtime.startContainer(plan, c.name)
      changed = true
      cm.restarts++
      cm.attempt++
      cm.nextStartAt = undefined
      cm.lastReason = undefined
      this.event(svc, 'Normal', 'Restarted', `container ${c.name} restarted (restart ${cm.restarts})`)
      this.deps.trigger('container-started')
    }
    return changed
  }

  private containerStatus(svc: StoredObject, state: RuntimePodState | undefined): { containers: unknown[]; restarts: number } {
    const spec = svc.spec as unknown as ServiceSpecView
    const mem = this.memory.get(keyOf(svc))
    const containers = spec.template.spec.containers.map((c) => {
      const cs = state?.containers.find((x) => x.name === c.name)
      const cm = mem?.containers.get(c.name)
      return {
        name: c.name,
        image: c.image,
        state: cs?.state ?? 'absent',
        ready: cs?.state === 'running' && (cm?.probes?.ready() ?? false),
        restartCount: cm?.restarts ?? 0,
        ...(cs?.exitCode !== undefined ? { exitCode: cs.exitCode } : {}),
        ...(cs?.startedAt ? { startedAt: cs.startedAt } : {}),
        ...(cs?.pid !== undefined ? { pid: cs.pid } : {}),
      }
    })
    return { containers, restarts: containers.reduce((n, c) => n + c.restartCount, 0) }
  }

  private writeStatus(svc: StoredObject, spec: ServiceSpecView, state: RuntimePodState | undefined, base: Record<string, unknown>): void {
    const mem = this.memory.get(keyOf(svc))
    const status = this.containerStatus(svc, state)
    const notRunning = spec.template.spec.containers.filter((c) => state?.containers.find((x) => x.name === c.name)?.state !== 'running')
    const extra = { ...base, ...status }
    const policy = spec.template.spec.restartPolicy ?? 'Always'
    if (notRunning.length > 0) {
      const backoff = notRunning.map((c) => [c, mem?.containers.get(c.name)] as const).find(([, cm]) => cm?.nextStartAt !== undefined)
      if (backoff) {
        const [c, cm] = backoff
        writeReady(this.deps.store, svc, {
          ready: false,
          reason: 'CrashLoopBackOff',
          message: `container ${c.name} exited (${cm!.lastReason ?? 'Error'}); back-off restarting it, restart ${cm!.restarts + 1} due in ${Math.max(0, cm!.nextStartAt! - Date.now())} ms`,
          phase: 'Running',
          extra,
        })
        return
      }
      const exited = notRunning.map((c) => state?.containers.find((x) => x.name === c.name)).filter((x) => x?.state === 'exited')
      if (policy !== 'Always' && exited.length === spec.template.spec.containers.length) {
        const ok = exited.every((x) => x?.exitCode === 0)
        writeReady(this.deps.store, svc, {
          ready: false,
          reason: ok ? 'Completed' : 'Failed',
          message: `every container exited (${exited.map((x) => `${x!.name}: ${x!.exitCode}`).join(', ')}); restartPolicy ${policy}`,
          phase: ok ? 'Succeeded' : 'Failed',
          extra,
        })
        return
      }
      writeReady(this.deps.store, svc, { ready: false, reason: 'ContainersNotRunning', message: `not running: ${notRunning.map((c) => c.name).join(', ')}`, phase: 'Pending', extra })
      return
    }
    const unready = spec.template.spec.containers.filter((c) => !(mem?.containers.get(c.name)?.probes?.ready() ?? false))
    if (unready.length > 0) {
      const why = unready.map((c) => {
        const p = mem?.containers.get(c.name)?.probes
        const r = p?.status.get('startup')?.ok !== true && c.startupProbe ? p?.status.get('startup') : p?.status.get('readiness')
        return `${c.name}: ${r?.message ?? 'not probed yet'}`
      })
      writeReady(this.deps.store, svc, { ready: false, reason: 'ProbeFailed', message: why.join('; '), phase: 'Running', extra })
      return
    }
    writeReady(this.deps.store, svc, {
      ready: true,
      reason: 'Running',
      message: `${spec.template.spec.containers.length} container(s) running on ${base.runtime as string} in ${base.netns as string}`,
      phase: 'Running',
      extra,
    })
  }
}

function graceMs(spec: ServiceSpecView): number {
  return (spec.template.spec.terminationGracePeriodSeconds ?? 10) * 1000
}

interface InterfaceMatch {
  status: Array<{ name: string; interfaceName: string; network: string; ready: boolean }>
  missing: string[]
  pending: string[]
}

/**
 * The ServiceInterfaces a Service plugs: those of type `service` with its serviceID, narrowed to `spec.interfaces`
 * when given (each entry must find one).
 */
export function matchInterfaces(spec: ServiceSpecView, interfaces: readonly StoredObject[], namespace: string): InterfaceMatch {
  const mine = interfaces.filter((si) => {
    const s = si.spec as { interfaceType?: string; service?: { serviceID?: string } }
    return s.interfaceType === 'service' && s.service?.serviceID === spec.serviceID
  })
  const view = (si: StoredObject) => {
    const s = (si.spec as { service: { network: string; interfaceName: string } }).service
    const ready = (si.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
    return { name: keyOf(si), interfaceName: s.interfaceName, network: s.network, ready }
  }
  const sameNetwork = (a: string, b: string, ns: string) => (a.includes('/') ? a : `${ns}/${a}`) === (b.includes('/') ? b : `${ns}/${b}`)
  const missing: string[] = []
  let chosen: StoredObject[]
  if (spec.interfaces) {
    chosen = []
    for (const want of spec.interfaces) {
      const si = mine.find((x) => {
        const s = (x.spec as { service: { network: string; interfaceName: string } }).service
        return s.interfaceName === want.interfaceName && sameNetwork(s.network, want.network, namespace)
      })
      if (si) chosen.push(si)
      else missing.push(`no ServiceInterface of type service with serviceID ${spec.serviceID}, network ${want.network} and interfaceName ${want.interfaceName}`)
    }
  } else chosen = mine
  const status = chosen.map(view)
  return { status, missing, pending: status.filter((s) => !s.ready).map((s) => `${s.name} (${s.interfaceName})`) }
}
