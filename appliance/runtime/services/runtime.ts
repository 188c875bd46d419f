/**
 * The contract between the services reconciler and a runtime backend (`podman`, `process`; later kubelet static
 * pods). The reconciler owns policy (what should run, restart backoff, probes, conditions); a backend owns only
 * mechanism: a sandbox whose network namespace is reachable by name under /run/netns (so the ports reconciler
 * can move service interfaces into it, as a CNI plugin does), containers in it, their logs and exec.
 *
 * A backend restarts nothing by itself: a container that exits stays exited until the reconciler starts it
 * again, so the restart policy, the backoff and the `CrashLoopBackOff` reason live in one place.
 *
 * Everything a backend creates carries the owner marker (labels on podman objects, a state file for processes),
 * so `list()` finds what the appliance owns after a restart (adoption) and never touches anything else.
 */

/** `namespace/name` as one file-system and podman-safe word (`namespace_name`: both are DNS labels, no `_`). */
export function podFileName(key: string): string {
  return key.replace('/', '_')
}

/** A resolved container: no references left (volumes are host paths, env is literal, limits are numbers). */
export interface RuntimeContainerSpec {
  name: string
  /** Image reference (podman). The `process` backend ignores it. */
  image: string
  /** The full argv: Kubernetes `command` + `args`, or, when `command` is absent, what the backend defaults to. */
  command: readonly string[]
  /** Present when the Pod gave no `command` (podman then uses the image's entrypoint with these args). */
  argsOnly?: boolean
  env: Readonly<Record<string, string>>
  workingDir?: string
  mounts: readonly RuntimeMount[]
  privileged: boolean
  capAdd: readonly string[]
  capDrop: readonly string[]
  /** Enforced by the backend where it can (podman: cgroup limits; process: RLIMIT_AS is not memory, so none). */
  limits: { cpuMillis?: number; memoryBytes?: number }
}

export interface RuntimeMount {
  hostPath: string
  containerPath: string
  readOnly: boolean
}

export interface RuntimePodSpec {
  /** `namespace/name` of the Service object; unique per appliance. */
  key: string
  /** Hash of everything below; a different hash means replace the pod. */
  specHash: string
  /**
   * The name the pod's network namespace must be reachable as (`/run/netns/<netnsName>`, what `ip netns`
   * lists). The backend creates or binds it (podman: `ip netns attach` to the infra container's pid).
   */
  netnsName: string
  containers: readonly RuntimeContainerSpec[]
  /** Extra labels to put on backend objects (podman); the owner marker and the key are always added. */
  labels: Readonly<Record<string, string>>
}

export type ContainerRunState = 'created' | 'running' | 'exited' | 'unknown'

export interface RuntimeContainerState {
  name: string
  state: ContainerRunState
  exitCode?: number
  /** ISO 8601 */
  startedAt?: string
  finishedAt?: string
  /** Main process id while running (host pid namespace). */
  pid?: number
}

export interface RuntimePodState {
  key: string
  specHash: string
  netnsName: string
  /** The sandbox exists and `/run/netns/<netnsName>` is its namespace. */
  sandboxReady: boolean
  containers: RuntimeContainerState[]
}

export interface LogOptions {
  follow?: boolean
  /** Only the last N lines. */
  tail?: number
  /** Only lines written at or after this time. */
  since?: Date
  signal?: AbortSignal
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface ServiceRuntime {
  readonly name: 'podman' | 'process'
  /** Everything this appliance owns in the backend (adoption after a restart; garbage collection). */
  list(): Promise<RuntimePodState[]>
  /** Create the sandbox if missing (idempotent) and make its network namespace reachable as `spec.netnsName`. */
  ensureSandbox(spec: RuntimePodSpec): Promise<void>
  /** Create the container if missing and start it; starting an exited container runs it again. */
  startContainer(spec: RuntimePodSpec, container: string): Promise<void>
  /** Stop (SIGTERM, then SIGKILL after `graceMs`); no error when already stopped. */
  stopContainer(key: string, container: string, graceMs: number): Promise<void>
  /** Stop and remove every container, the sandbox and the netns name; no error when absent. */
  removePod(key: string, graceMs: number): Promise<void>
  /** Whether the image is present locally (no registry is assumed reachable). `process`: always true. */
  hasImage(image: string): Promise<boolean>
  /** Output of one container, oldest first. With `follow`, ends when the signal aborts. */
  logs(key: string, container: string, options: LogOptions): AsyncIterable<Buffer>
  /** Run a command inside a running container (exec probes, `dpuctl exec`). */
  exec(key: string, container: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult>
  /** Called (coalescing is the caller's job) whenever some owned container may have changed state. */
  watch(onChange: (key: string) => void): () => void
  /** Release connections, watchers, timers. Does not stop containers: they outlive the appliance. */
  close(): Promise<void>
}
