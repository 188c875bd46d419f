/**
 * The `podman` backend: each pod is a podman pod with `--network none` and an infra container running the
 * configured infra command (`/pause`); its network namespace is made reachable as /run/netns/<netnsName> with
 * `ip netns attach <netnsName> <infraPid>`, so the ports reconciler moves interfaces into it as a CNI plugin does
 * (a pod cannot join a namespace by path: `--network ns:` is refused for pods). Containers are per-container
 * libpod calls, restart policy "no": the reconciler restarts.
 *
 * Ownership: every pod and container carries `dpu.appliance/owner=<owner>`, `dpu.appliance/service=<key>` and
 * `dpu.appliance/spec-hash=<hash>` (the pod also `dpu.appliance/netns`); list() reads them back, so a restarted
 * appliance adopts what runs and never touches other podman objects. Nothing is held in memory but the
 * connection, the events stream, and the pid of a podman service this backend started itself.
 *
 * Podman needs the containers.conf the appliance ships (podman/containers.conf, via CONTAINERS_CONF): see the
 * facts recorded in that file. The backend starts `podman system service --time=0 unix://<socket>` when nothing
 * listens on the socket, and stops it on close() only if it started it; containers (conmon) survive either way.
 *
 * Timestamps: podman's container list has second resolution (startedAt/finishedAt), and logs `since` is a unix
 * time in seconds (rounded down here).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { backoffDelay } from '../../../api/support/backoff.js'
import { runCommand } from '../ports/command.js'
import { deleteNetns } from '../ports/link.js'
import { ContainerNotRunningError, ExecTimeoutError, PodmanApiError, PodmanUnavailableError, RuntimeNotFoundError } from './errors.js'
import { isNetnsMounted, NETNS_DIR, readNsInode } from './host.js'
import { demultiplex, jsonLines, PodmanApi } from './podman-api.js'
import { parsePodSpec, parseRef } from './pod-spec.js'
import { podFileName, type ExecResult, type LogOptions, type RuntimeContainerSpec, type RuntimeContainerState, type RuntimePodSpec, type RuntimePodState, type ServiceRuntime } from './runtime.js'

/** The containers.conf shipped beside this module (the build copies it into dist/). */
export const PODMAN_CONTAINERS_CONF = fileURLToPath(new URL('./podman/containers.conf', import.meta.url))

export const LABEL_OWNER = 'dpu.appliance/owner'
export const LABEL_SERVICE = 'dpu.appliance/service'
export const LABEL_SPEC_HASH = 'dpu.appliance/spec-hash'
export const LABEL_NETNS = 'dpu.appliance/netns'
export const LABEL_CONTAINER = 'dpu.appliance/container'

export interface PodmanRuntimeOptions {
  /** The libpod API socket, e.g. /run/dpu-appliance/podman.sock. */
  socketPath: string
  /** Owner marker value (the appliance id). */
  owner: string
  /** Image of the pods' infra containers; must be present locally and contain `infraCommand`. */
  infraImage: string
  infraCommand?: readonly string[]
  /** Start `podman system service` when nothing answers on the socket (default true). */
  startService?: boolean
  podmanBinary?: string
  containersConf?: string
  /** Prefix of podman pod names (a pod is `<prefix><namespace>_<name>`). */
  podNamePrefix?: string
}

const ListedContainerSchema = z.object({
  Id: z.string(),
  Names: z.array(z.string()).nullish(),
  IsInfra: z.boolean().optional(),
  Labels: z.record(z.string(), z.string()).nullish(),
  State: z.string(),
  ExitCode: z.number().optional(),
  Pid: z.number().optional(),
  StartedAt: z.number().optional(),
  ExitedAt: z.number().optional(),
  PodName: z.string().optional(),
})
type ListedContainer = z.infer<typeof ListedContainerSchema>

const ListedPodSchema = z.object({
  Id: z.string(),
  Name: z.string(),
  Labels: z.record(z.string(), z.string()).nullish(),
})

const PodInspectSchema = z.object({ Id: z.string(), InfraContainerID: z.string().optional(), State: z.string().optional() })
const ContainerInspectSchema = z.object({
  Id: z.string(),
  State: z.object({ Status: z.string(), Pid: z.number().optional() }),
  Config: z.object({ Labels: z.record(z.string(), z.string()).nullish() }).optional(),
})
const ExecInspectSchema = z.object({ ExitCode: z.number().optional(), Running: z.boolean().optional(), Pid: z.number().optional() })
const EventSchema = z.object({ Type: z.string().optional(), Actor: z.object({ Attributes: z.record(z.string(), z.string()).nullish() }).optional() })

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string, socketPath: string): T {
  const r = schema.safeParse(value)
  if (!r.success) throw new PodmanUnavailableError(socketPath, `unexpected ${what}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return r.data
}

const isoFromUnix = (s: number | undefined): string | undefined => (s === undefined || s <= 0 ? undefined : new Date(s * 1000).toISOString())

function toRunState(state: string): RuntimeContainerState['state'] {
  if (state === 'running' || state === 'paused' || state === 'stopping') return 'running'
  if (state === 'created' || state === 'configured' || state === 'initialized') return 'created'
  if (state === 'exited' || state === 'stopped') return 'exited'
  return 'unknown'
}

export class PodmanRuntime implements ServiceRuntime {
  readonly name = 'podman' as const
  private readonly api: PodmanApi
  private service: ChildProcess | undefined
  private ready: Promise<void> | undefined
  private readonly listeners = new Set<(key: string) => void>()
  private events: AbortController | undefined
  private closed = false

  constructor(private readonly options: PodmanRuntimeOptions) {
    this.api = new PodmanApi(options.socketPath)
  }

  async list(): Promise<RuntimePodState[]> {
    await this.connect()
    const pods = parse(z.array(ListedPodSchema).nullable(), (await this.api.json({ path: '/pods/json', query: { filters: this.ownerFilter() } })).body, 'pod list', this.options.socketPath) ?? []
    const containers = await this.listContainers()
    const out: RuntimePodState[] = []
    for (const p of pods) {
      const labels = p.Labels ?? {}
      const key = labels[LABEL_SERVICE]
      if (key === undefined) continue
      const netnsName = labels[LABEL_NETNS] ?? ''
      const mine = containers.filter((c) => c.PodName === p.Name)
      const infra = mine.find((c) => c.IsInfra === true)
      out.push({
        key,
        specHash: labels[LABEL_SPEC_HASH] ?? '',
        netnsName,
        sandboxReady: infra?.State === 'running' && infra.Pid !== undefined && infra.Pid > 0 && (await this.netnsMatches(netnsName, infra.Pid)),
        containers: mine.filter((c) => c.IsInfra !== true && c.Labels?.[LABEL_CONTAINER] !== undefined).map(toContainerState),
      })
    }
    return out
  }

  async ensureSandbox(specIn: RuntimePodSpec): Promise<void> {
    const spec = parsePodSpec(specIn)
    await this.connect()
    await this.ensureSandboxParsed(spec)
  }

  async startContainer(specIn: RuntimePodSpec, container: string): Promise<void> {
    const spec = parsePodSpec(specIn)
    const c = spec.containers.find((x) => x.name === container)
    if (c === undefined) throw new RuntimeNotFoundError(spec.key, container)
    await this.connect()
    await this.ensureSandboxParsed(spec)
    const name = this.containerName(spec.key, container)
    const existing = await this.inspectContainer(name)
    // Created from another spec: replaced (podman cannot change a container's command or image in place).
    const stale = existing !== undefined && existing.Config?.Labels?.[LABEL_SPEC_HASH] !== spec.specHash
    if (existing !== undefined && !stale && toRunState(existing.State.Status) === 'running') return
    if (stale) await this.api.json({ method: 'DELETE', path: `/containers/${name}`, query: { force: true } }, [404])
    if (existing === undefined || stale) await this.createContainer(spec, c)
    await this.api.json({ method: 'POST', path: `/containers/${name}/start` }, [304])
  }

  async stopContainer(key: string, container: string, graceMs: number): Promise<void> {
    parseRef(key, container)
    await this.connect()
    // podman's stop: the stop signal (SIGTERM), then SIGKILL after `timeout` seconds.
    const timeout = Math.max(0, Math.ceil(graceMs / 1000))
    await this.api.json({ method: 'POST', path: `/containers/${this.containerName(key, container)}/stop`, query: { timeout }, timeoutMs: graceMs + 60_000 }, [304, 404])
  }

  async removePod(key: string, graceMs: number): Promise<void> {
    parseRef(key)
    await this.connect()
    const podName = this.podName(key)
    // One filtered lookup, not a full list: the services pass removes orphans several at a time, and a full list
    // per removal made removing n pods cost n lists.
    const labels = await this.podLabels(podName)
    if (labels === undefined) return
    if (labels[LABEL_OWNER] !== this.options.owner) return // not ours: never touch it
    // podman's pod stop: every container gets the stop signal at once, SIGKILL after `t` seconds.
    const t = Math.max(0, Math.ceil(graceMs / 1000))
    await this.api.json({ method: 'POST', path: `/pods/${podName}/stop`, query: { t }, timeoutMs: graceMs + 60_000 }, [304, 404])
    await this.api.json({ method: 'DELETE', path: `/pods/${podName}`, query: { force: true }, timeoutMs: 60_000 }, [404])
    const netnsName = labels[LABEL_NETNS]
    if (netnsName) await deleteNetns(netnsName)
  }

  async hasImage(image: string): Promise<boolean> {
    await this.connect()
    const { status } = await this.api.json({ path: `/images/${encodeURIComponent(image)}/exists` }, [404])
    return status === 204 || status === 200
  }

  async *logs(key: string, container: string, options: LogOptions): AsyncIterable<Buffer> {
    parseRef(key, container)
    await this.connect()
    const query: Record<string, string | number | boolean | undefined> = { stdout: true, stderr: true, follow: options.follow === true }
    if (options.tail !== undefined) query.tail = options.tail
    if (options.since !== undefined) query.since = Math.floor(options.since.getTime() / 1000)
    const aborted = (): boolean => options.signal?.aborted === true
    if (aborted()) return
    let res
    try {
      res = await this.api.stream({ path: `/containers/${this.containerName(key, container)}/logs`, query, signal: options.signal, timeoutMs: options.follow === true ? 0 : 60_000 })
    } catch (err) {
      if (err instanceof PodmanApiError && err.status === 404) throw new RuntimeNotFoundError(key, container)
      throw err
    }
    try {
      for await (const frame of demultiplex(res)) if (frame.stream === 1 || frame.stream === 2) yield Buffer.from(frame.data)
    } catch (err) {
      if (!aborted()) throw err
    } finally {
      res.destroy()
    }
  }

  async exec(key: string, container: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    parseRef(key, container)
    await this.connect()
    const name = this.containerName(key, container)
    const inspect = await this.inspectContainer(name)
    if (inspect === undefined) throw new RuntimeNotFoundError(key, container)
    if (toRunState(inspect.State.Status) !== 'running') throw new ContainerNotRunningError(key, container, inspect.State.Status)
    const created = await this.api.json<{ Id?: string }>({ method: 'POST', path: `/containers/${name}/exec`, body: { AttachStdout: true, AttachStderr: true, Cmd: [...argv] } })
    const id = created.body?.Id
    if (id === undefined) throw new PodmanUnavailableError(this.options.socketPath, 'exec create returned no id')
    const abort = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      // The API cannot cancel an exec session: kill its process, which ends the stream.
      void this.api
        .json<unknown>({ path: `/exec/${id}/json` })
        .then(({ body }) => {
          const pid = ExecInspectSchema.safeParse(body).data?.Pid
          if (pid !== undefined && pid > 0) process.kill(pid, 'SIGKILL')
        })
        .catch(() => undefined)
        .finally(() => setTimeout(() => abort.abort(), 2000).unref())
    }, timeoutMs)
    let stdout = ''
    let stderr = ''
    try {
      const res = await this.api.stream({ method: 'POST', path: `/exec/${id}/start`, body: { Detach: false, Tty: false }, signal: abort.signal, timeoutMs: 0 })
      for await (const f of demultiplex(res)) {
        if (f.stream === 1) stdout += f.data.toString('utf8')
        else if (f.stream === 2) stderr += f.data.toString('utf8')
      }
    } catch (err) {
      if (!timedOut) throw err
    } finally {
      clearTimeout(timer)
    }
    if (timedOut) throw new ExecTimeoutError(key, container, argv, timeoutMs)
    // The session's exit code is recorded once its process is reaped: poll briefly.
    for (let i = 0; ; i++) {
      const info = parse(ExecInspectSchema, (await this.api.json<unknown>({ path: `/exec/${id}/json` })).body, 'exec inspect', this.options.socketPath)
      if (info.Running !== true && info.ExitCode !== undefined) return { exitCode: info.ExitCode, stdout, stderr }
      if (i >= 100) throw new ExecTimeoutError(key, container, argv, timeoutMs)
      await sleep(50)
    }
  }

  watch(onChange: (key: string) => void): () => void {
    this.listeners.add(onChange)
    if (this.events === undefined && !this.closed) this.followEvents()
    return () => {
      this.listeners.delete(onChange)
      if (this.listeners.size === 0) {
        this.events?.abort()
        this.events = undefined
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.events?.abort()
    this.events = undefined
    this.listeners.clear()
    await this.ready?.catch(() => undefined)
    const service = this.service
    this.service = undefined
    if (service !== undefined && service.exitCode === null && service.signalCode === null) {
      const exited = new Promise<void>((resolve) => service.once('exit', () => resolve()))
      service.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL')
    }
  }

  // --- internals -------------------------------------------------------------------------------------------

  private podName(key: string): string {
    return `${this.options.podNamePrefix ?? 'dpu-'}${podFileName(key)}`
  }

  private containerName(key: string, container: string): string {
    return `${this.podName(key)}-${container}`
  }

  private ownerFilter(extra: Record<string, string[]> = {}): string {
    return JSON.stringify({ label: [`${LABEL_OWNER}=${this.options.owner}`], ...extra })
  }

  /** Reaches the API, starting `podman system service` first when nothing listens and we may. */
  private connect(): Promise<void> {
    this.ready ??= (async () => {
      if (await this.ping()) return
      if (this.options.startService === false) throw new PodmanUnavailableError(this.options.socketPath, 'nothing listens and startService is false')
      await rm(this.options.socketPath, { force: true })
      const child = spawn(this.options.podmanBinary ?? 'podman', ['system', 'service', '--time=0', `unix://${this.options.socketPath}`], {
        env: { ...process.env, CONTAINERS_CONF: this.options.containersConf ?? PODMAN_CONTAINERS_CONF },
        stdio: 'ignore',
      })
      child.on('error', () => undefined)
      this.service = child
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) break
        if (await this.ping()) return
        await sleep(100)
      }
      throw new PodmanUnavailableError(this.options.socketPath, `podman system service did not answer (exit ${child.exitCode ?? child.signalCode ?? 'none yet'})`)
    })()
    // A failed attempt is not cached: the next call tries again.
    this.ready.catch(() => (this.ready = undefined))
    return this.ready
  }

  private async ping(): Promise<boolean> {
    try {
      const res = await this.api.open({ path: '/_ping', timeoutMs: 5000 })
      res.resume()
      return (res.statusCode ?? 0) < 500
    } catch {
      return false
    }
  }

  private async listContainers(filters: Record<string, string[]> = {}): Promise<ListedContainer[]> {
    const { body } = await this.api.json<unknown>({ path: '/containers/json', query: { all: true, filters: this.ownerFilter(filters) } })
    return parse(z.array(ListedContainerSchema).nullable(), body, 'container list', this.options.socketPath) ?? []
  }

  private async inspectContainer(name: string): Promise<z.infer<typeof ContainerInspectSchema> | undefined> {
    const { status, body } = await this.api.json<unknown>({ path: `/containers/${name}/json` }, [404])
    return status === 404 ? undefined : parse(ContainerInspectSchema, body, 'container inspect', this.options.socketPath)
  }

  private async podLabels(podName: string): Promise<Record<string, string> | undefined> {
    const { body } = await this.api.json<unknown>({ path: '/pods/json', query: { filters: JSON.stringify({ name: [`^${podName}$`] }) } })
    const pods = parse(z.array(ListedPodSchema).nullable(), body, 'pod list', this.options.socketPath) ?? []
    return pods.find((p) => p.Name === podName)?.Labels ?? undefined
  }

  private labels(spec: RuntimePodSpec, extra: Record<string, string> = {}): Record<string, string> {
    return { ...spec.labels, [LABEL_OWNER]: this.options.owner, [LABEL_SERVICE]: spec.key, [LABEL_SPEC_HASH]: spec.specHash, ...extra }
  }

  private async ensureSandboxParsed(spec: RuntimePodSpec): Promise<void> {
    const podName = this.podName(spec.key)
    let inspect = await this.api.json<unknown>({ path: `/pods/${podName}/json` }, [404])
    if (inspect.status === 404) {
      await this.api.json(
        {
          method: 'POST',
          path: '/pods/create',
          body: {
            name: podName,
            labels: this.labels(spec, { [LABEL_NETNS]: spec.netnsName }),
            infra_image: this.options.infraImage,
            infra_command: [...(this.options.infraCommand ?? ['/pause'])],
            // The appliance plays the CNI: interfaces are moved into the namespace, podman configures none.
            netns: { nsmode: 'none' },
            no_infra: false,
          },
        },
        [409], // created concurrently: fine
      )
      inspect = await this.api.json<unknown>({ path: `/pods/${podName}/json` })
    }
    const pod = parse(PodInspectSchema, inspect.body, 'pod inspect', this.options.socketPath)
    if (pod.InfraContainerID === undefined) throw new PodmanUnavailableError(this.options.socketPath, `pod ${podName} has no infra container`)
    let infra = await this.inspectContainer(pod.InfraContainerID)
    if (infra === undefined || toRunState(infra.State.Status) !== 'running') {
      if (infra !== undefined && toRunState(infra.State.Status) === 'exited') {
        // The sandbox died (infra killed, host restart): a restarted infra gets a new namespace, and containers
        // still running sit in the old one, cut off from the interfaces moved into the new one. Stop them, as
        // kubelet does on sandbox death; the reconciler starts them again (they report exited).
        const stale = (await this.listContainers({ pod: [pod.Id] })).filter((c) => c.IsInfra !== true && toRunState(c.State) === 'running')
        await Promise.all(stale.map((c) => this.api.json({ method: 'POST', path: `/containers/${c.Id}/stop`, query: { timeout: 10 }, timeoutMs: 70_000 }, [304, 404])))
      }
      await this.api.json({ method: 'POST', path: `/containers/${pod.InfraContainerID}/start` }, [304])
      infra = await this.inspectContainer(pod.InfraContainerID)
    }
    const pid = infra?.State.Pid
    if (pid === undefined || pid <= 0) throw new PodmanUnavailableError(this.options.socketPath, `infra container of ${podName} has no pid`)
    await this.attachNetns(spec.netnsName, pid)
  }

  /** Whether /run/netns/<name> is the infra process's namespace (same nsfs inode). */
  private async netnsMatches(netnsName: string, pid: number): Promise<boolean> {
    if (netnsName === '') return false
    const [named, infra] = await Promise.all([readNsInode(`${NETNS_DIR}/${netnsName}`), readNsInode(`/proc/${pid}/ns/net`)])
    return named !== undefined && named === infra && (await isNetnsMounted(netnsName))
  }

  /**
   * Binds the infra container's namespace as /run/netns/<name>. A name bound to another namespace (the infra
   * container restarted, or the host did and left a stale file) is detached and bound again.
   */
  private async attachNetns(netnsName: string, pid: number): Promise<void> {
    if (await this.netnsMatches(netnsName, pid)) return
    if (await isNetnsMounted(netnsName)) await deleteNetns(netnsName)
    await rm(`${NETNS_DIR}/${netnsName}`, { force: true })
    await runCommand(['ip', 'netns', 'attach', netnsName, String(pid)])
  }

  private async createContainer(spec: RuntimePodSpec, c: RuntimeContainerSpec): Promise<void> {
    const body: Record<string, unknown> = {
      name: this.containerName(spec.key, c.name),
      pod: this.podName(spec.key),
      image: c.image,
      env: c.env,
      labels: this.labels(spec, { [LABEL_CONTAINER]: c.name }),
      restart_policy: 'no',
      privileged: c.privileged,
      cap_add: [...c.capAdd],
      cap_drop: [...c.capDrop],
      mounts: c.mounts.map((m) => ({ destination: m.containerPath, source: m.hostPath, type: 'bind', options: ['rbind', m.readOnly ? 'ro' : 'rw'] })),
    }
    // Kubernetes `command` replaces the image's entrypoint (and drops its CMD); `args` alone keep the entrypoint.
    if (c.argsOnly === true) body.command = [...c.command]
    else body.entrypoint = [...c.command]
    if (c.workingDir !== undefined) body.work_dir = c.workingDir
    const limits: Record<string, unknown> = {}
    if (c.limits.memoryBytes !== undefined) limits.memory = { limit: c.limits.memoryBytes }
    // CFS quota per 100 ms period: 1000 millicores = one full period.
    if (c.limits.cpuMillis !== undefined) limits.cpu = { quota: c.limits.cpuMillis * 100, period: 100_000 }
    if (Object.keys(limits).length > 0) body.resource_limits = limits
    await this.api.json({ method: 'POST', path: '/containers/create', body, timeoutMs: 120_000 })
  }

  /** One events stream for all listeners, reconnected with backoff until closed or unwatched. */
  private followEvents(): void {
    const abort = new AbortController()
    this.events = abort
    void (async () => {
      for (let attempt = 0; !abort.signal.aborted;) {
        try {
          await this.connect()
          const res = await this.api.stream({ path: '/events', query: { stream: true, filters: this.ownerFilter({ type: ['container'] }) }, signal: abort.signal, timeoutMs: 0 })
          attempt = 0
          // Changes while we were disconnected were not seen: tell every listener to look at everything.
          this.emitAll()
          for await (const ev of jsonLines(res)) {
            const key = EventSchema.safeParse(ev).data?.Actor?.Attributes?.[LABEL_SERVICE]
            if (key !== undefined) this.emit(key)
          }
        } catch {
          // reconnect below
        }
        if (abort.signal.aborted) break
        await sleep(backoffDelay(attempt++, { initialMs: 200, maxMs: 10_000, jitter: 'equal' }), undefined, { signal: abort.signal }).catch(() => undefined)
      }
    })()
  }

  private emit(key: string): void {
    if (this.closed) return
    for (const l of this.listeners) l(key)
  }

  private emitAll(): void {
    void this.list()
      .then((pods) => pods.forEach((p) => this.emit(p.key)))
      .catch(() => undefined)
  }
}

function toContainerState(c: ListedContainer): RuntimeContainerState {
  const state = toRunState(c.State)
  const s: RuntimeContainerState = { name: c.Labels?.[LABEL_CONTAINER] ?? '', state }
  const startedAt = isoFromUnix(c.StartedAt)
  if (startedAt !== undefined) s.startedAt = startedAt
  if (state === 'exited') {
    if (c.ExitCode !== undefined) s.exitCode = c.ExitCode
    const finishedAt = isoFromUnix(c.ExitedAt)
    if (finishedAt !== undefined) s.finishedAt = finishedAt
  }
  if (state === 'running' && c.Pid !== undefined && c.Pid > 0) s.pid = c.Pid
  return s
}
