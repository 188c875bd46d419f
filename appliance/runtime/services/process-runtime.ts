/**
 * The `process` backend: each container is a host command run in the pod's named network namespace
 * (`nsenter --net=/run/netns/<netnsName> -- argv`), in its own session and process group, so it outlives the
 * appliance (a kill -9 of the appliance does not reach it) and a stop signals everything it started.
 *
 * What it holds, and where:
 *   <stateDir>/pods/<namespace>_<name>.json   one file per pod, written atomically (tmp + fsync + rename): the
 *       owner, spec hash, netns name, and per container its command/env/workingDir (for exec), pid, process
 *       start time (/proc/<pid>/stat field 22: a reused pid has another), started/finished, exit code.
 *       Written by every state change; removed by removePod. This file IS the owner marker: list() reads
 *       nothing else, so a restarted appliance adopts exactly what it started.
 *   <stateDir>/logs/<namespace>_<name>/<container>.fifo   the container's stdout+stderr. The container holds it
 *       open read-write, so while no appliance reads it its writes fill the pipe buffer (64 KiB) and then
 *       block instead of dying of SIGPIPE; a restarted appliance reopens it and drains what was written.
 *   <stateDir>/logs/<namespace>_<name>/<container>.log(.1)   timestamped lines (log-file.ts), 1 MiB + one old file.
 *
 * Exit detection: a container this appliance process started is its child, and the child's 'exit' event gives
 * the exit code. An adopted container is not our child (it was reparented when the old appliance died) and Node
 * has no pidfd, so adopted pids are polled every `livenessIntervalMs` (1 s): a bounded check of those pids only.
 * An adopted container's exit code is unknown to us (its real parent reaped it): it is reported exited without
 * one, except after our own stop, where it is inferred from the signal that ended it (143 or 137).
 *
 * Not honoured by this backend (the reconciler must say so in a condition rather than run silently): `image`,
 * `mounts` (the command sees the host's file system), `privileged`/`capAdd`/`capDrop` (it runs with the
 * appliance's own credentials).
 *
 * Limits: none are enforced. Without systemd there is no delegated cgroup to put the command in, and this VM's
 * hybrid cgroup v1 layout has no unified memory controller to use instead. XXX: use a cgroup v2 subtree
 * (memory.max, cpu.max) when /sys/fs/cgroup is cgroup2 with the controllers delegated.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants as fsConstants, openSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { constants as osConstants } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { runCommand } from '../ports/command.js'
import { deleteNetns, ensureNetns } from '../ports/link.js'
import { ContainerNotRunningError, ExecTimeoutError, RuntimeNotFoundError, RuntimeStateCorruptError } from './errors.js'
import { isNetnsMounted, isSameLiveProcess, NETNS_DIR, readProcStat } from './host.js'
import { DEFAULT_LOG_MAX_BYTES, LogFileWriter, readLogFile } from './log-file.js'
import { parsePodSpec, parseRef } from './pod-spec.js'
import { podFileName, type ExecResult, type LogOptions, type RuntimeContainerState, type RuntimePodSpec, type RuntimePodState, type ServiceRuntime } from './runtime.js'

export interface ProcessRuntimeOptions {
  /** Where pod state files and logs live; must survive an appliance restart (not a per-run tmpdir). */
  stateDir: string
  /** The owner marker written into every state file; list() skips files of another owner. */
  owner: string
  /** Poll interval for adopted (non-child) pids. */
  livenessIntervalMs?: number
  logMaxBytes?: number
}

// The PATH a container gets unless its env sets one (the command is resolved by nsenter's execvp).
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const ContainerRecordSchema = z.object({
  command: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  workingDir: z.string().optional(),
  state: z.enum(['created', 'running', 'exited']),
  pid: z.number().int().positive().optional(),
  startTime: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  exitCode: z.number().int().optional(),
})
type ContainerRecord = z.infer<typeof ContainerRecordSchema>

const PodRecordSchema = z.object({
  version: z.literal(1),
  owner: z.string(),
  key: z.string(),
  specHash: z.string(),
  netnsName: z.string(),
  containers: z.record(z.string(), ContainerRecordSchema),
})
type PodRecord = z.infer<typeof PodRecordSchema>

/** What this appliance process has open for one running container. */
interface Attached {
  pid: number
  child: ChildProcess | undefined
  reader: Socket | undefined
  log: LogFileWriter
  /** Resolves when the exit has been recorded (children) or observed (adopted). */
  exited: Promise<void>
  markExited: () => void
}

let tmpCounter = 0
const fileKey = podFileName
const attachedKey = (key: string, container: string): string => `${key}\0${container}`

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (osConstants.signals[signal] ?? 0)
}

/** Runs `command` detached in `netnsName`; see the module comment. */
export class ProcessRuntime implements ServiceRuntime {
  readonly name = 'process' as const
  private readonly podsDir: string
  private readonly logsDir: string
  private readonly attached = new Map<string, Attached>()
  private readonly listeners = new Set<(key: string) => void>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private adopted: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.podsDir = join(options.stateDir, 'pods')
    this.logsDir = join(options.stateDir, 'logs')
  }

  async list(): Promise<RuntimePodState[]> {
    await this.adopt()
    const out: RuntimePodState[] = []
    for (const record of await this.readAll()) {
      const containers: RuntimeContainerState[] = []
      for (const [name, c] of Object.entries(record.containers)) {
        let state = c
        // A child's exit is recorded by its 'exit' handler, with the exit code; only others are concluded here.
        if (c.state === 'running' && !this.isChild(record.key, name, c.pid) && !(await this.isRunning(c))) state = (await this.recordExit(record.key, name, c.pid, undefined)) ?? c
        containers.push(toContainerState(name, state))
      }
      out.push({ key: record.key, specHash: record.specHash, netnsName: record.netnsName, sandboxReady: await isNetnsMounted(record.netnsName), containers })
    }
    return out
  }

  async ensureSandbox(specIn: RuntimePodSpec): Promise<void> {
    const spec = parsePodSpec(specIn)
    await this.adopt()
    await this.locked(spec.key, () => this.ensureSandboxLocked(spec))
  }

  async startContainer(specIn: RuntimePodSpec, container: string): Promise<void> {
    const spec = parsePodSpec(specIn)
    await this.adopt()
    const c = spec.containers.find((x) => x.name === container)
    if (c === undefined) throw new RuntimeNotFoundError(spec.key, container)
    let started = false
    await this.locked(spec.key, async () => {
      const record = await this.ensureSandboxLocked(spec)
      const existing = record.containers[container]
      if (existing?.state === 'running' && (await this.isRunning(existing))) return
      const dir = join(this.logsDir, fileKey(spec.key))
      await mkdir(dir, { recursive: true })
      const fifo = join(dir, `${container}.fifo`)
      if (
        !(await stat(fifo).then(
          (s) => s.isFIFO(),
          () => false,
        ))
      ) {
        await rm(fifo, { force: true })
        await runCommand(['mkfifo', '-m', '0600', fifo])
      }
      const log = new LogFileWriter(join(dir, `${container}.log`), this.options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES)
      const env = { PATH: DEFAULT_PATH, ...c.env }
      const next: ContainerRecord = { command: [...c.command], env, state: 'running', startedAt: new Date().toISOString() }
      if (c.workingDir !== undefined) next.workingDir = c.workingDir
      // The child holds the fifo read-write (see the module comment); our own copy is closed once it runs. The
      // reader is opened while we still hold it: a pipe whose last descriptor closes loses its buffered data, and
      // a reader opened with no writer would see end-of-file at once.
      const fd = openSync(fifo, 'r+')
      const reader = openFifoReader(fifo)
      let child: ChildProcess
      try {
        child = spawn('nsenter', [`--net=${NETNS_DIR}/${spec.netnsName}`, '--', ...c.command], { cwd: c.workingDir ?? '/', env, stdio: ['ignore', fd, fd], detached: true })
        await new Promise<void>((resolve, reject) => {
          child.once('spawn', resolve)
          child.once('error', reject)
        })
      } catch (err) {
        // Like a container runtime's StartError: the container ran and exited 128; the reason is in its log.
        log.note(`process runtime: cannot start ${c.command.join(' ')}: ${err instanceof Error ? err.message : String(err)}`)
        log.close()
        reader?.destroy()
        record.containers[container] = { ...next, state: 'exited', exitCode: 128, finishedAt: new Date().toISOString() }
        await this.write(record)
        started = true
        return
      } finally {
        closeSync(fd)
      }
      child.unref()
      // Listen at once: a short-lived command can exit before the state below is written, and 'exit' fires once.
      const exit = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal))))
      const pid = child.pid as number
      next.pid = pid
      next.startTime = (await readProcStat(pid))?.startTime ?? ''
      record.containers[container] = next
      await this.write(record)
      this.attach(spec.key, container, pid, reader, log, { child, exit })
      started = true
    })
    if (started) this.emit(spec.key)
  }

  async stopContainer(key: string, container: string, graceMs: number): Promise<void> {
    parseRef(key, container)
    await this.adopt()
    const record = await this.read(key)
    const c = record?.containers[container]
    if (record === undefined || c === undefined || c.state !== 'running' || c.pid === undefined) return
    const pid = c.pid
    if (!(await this.isRunning(c))) {
      const a = this.attached.get(attachedKey(key, container))
      if (a?.child !== undefined && a.pid === pid) await Promise.race([a.exited, sleep(5000)])
      else await this.recordExit(key, container, pid, undefined)
      return
    }
    // The whole process group: a shell's children must not outlive the container (Kubernetes stops them all).
    let last: NodeJS.Signals = 'SIGTERM'
    signalGroup(pid, 'SIGTERM')
    if (!(await this.waitGone(c, graceMs))) {
      last = 'SIGKILL'
      signalGroup(pid, 'SIGKILL')
      await this.waitGone(c, 10_000)
    }
    const a = this.attached.get(attachedKey(key, container))
    if (a?.child !== undefined && a.pid === pid) await Promise.race([a.exited, sleep(5000)])
    else await this.recordExit(key, container, pid, 128 + signalNumber(last))
  }

  async removePod(key: string, graceMs: number): Promise<void> {
    parseRef(key)
    await this.adopt()
    const record = await this.read(key)
    if (record === undefined) return
    await Promise.all(Object.keys(record.containers).map((name) => this.stopContainer(key, name, graceMs)))
    await this.locked(key, async () => {
      for (const name of Object.keys(record.containers)) this.detach(key, name)
      await deleteNetns(record.netnsName)
      await rm(join(this.logsDir, fileKey(key)), { recursive: true, force: true })
      await rm(this.podPath(key), { force: true })
    })
    this.emit(key)
  }

  hasImage(): Promise<boolean> {
    return Promise.resolve(true)
  }

  async *logs(key: string, container: string, options: LogOptions): AsyncIterable<Buffer> {
    parseRef(key, container)
    const record = await this.read(key)
    if (record?.containers[container] === undefined) throw new RuntimeNotFoundError(key, container)
    yield* readLogFile(join(this.logsDir, fileKey(key), `${container}.log`), options)
  }

  async exec(key: string, container: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    parseRef(key, container)
    const record = await this.read(key)
    const c = record?.containers[container]
    if (record === undefined || c === undefined) throw new RuntimeNotFoundError(key, container)
    if (c.state !== 'running' || !(await this.isRunning(c))) throw new ContainerNotRunningError(key, container, c.state === 'running' ? 'exited' : c.state)
    return new Promise((resolve, reject) => {
      const args = [`--net=${NETNS_DIR}/${record.netnsName}`, '--', ...argv]
      execFile('nsenter', args, { cwd: c.workingDir ?? '/', env: c.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err === null) return resolve({ exitCode: 0, stdout, stderr })
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null }
        if (e.killed === true && e.signal === 'SIGKILL') return reject(new ExecTimeoutError(key, container, argv, timeoutMs))
        if (typeof e.code === 'number') return resolve({ exitCode: e.code, stdout, stderr })
        if (e.signal) return resolve({ exitCode: 128 + signalNumber(e.signal), stdout, stderr })
        reject(err)
      })
    })
  }

  watch(onChange: (key: string) => void): () => void {
    this.listeners.add(onChange)
    void this.adopt().catch(() => undefined)
    return () => this.listeners.delete(onChange)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.adopted?.catch(() => undefined)
    for (const k of [...this.attached.keys()]) {
      const [key, name] = k.split('\0') as [string, string]
      this.detach(key, name)
    }
    this.listeners.clear()
  }

  // --- internals -------------------------------------------------------------------------------------------

  /** Once per instance: reopen the logs of running containers and start watching their pids. */
  private adopt(): Promise<void> {
    this.adopted ??= (async () => {
      for (const record of await this.readAll()) {
        for (const [name, c] of Object.entries(record.containers)) {
          if (c.state !== 'running' || c.pid === undefined) continue
          if (!(await this.isRunning(c))) {
            await this.recordExit(record.key, name, c.pid, undefined)
            continue
          }
          const dir = join(this.logsDir, fileKey(record.key))
          const log = new LogFileWriter(join(dir, `${name}.log`), this.options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES)
          this.attach(record.key, name, c.pid, openFifoReader(join(dir, `${name}.fifo`)), log, undefined)
        }
      }
    })()
    return this.adopted
  }

  private attach(key: string, container: string, pid: number, reader: Socket | undefined, log: LogFileWriter, own: { child: ChildProcess; exit: Promise<number> } | undefined): void {
    const child = own?.child
    this.detach(key, container)
    let markExited = (): void => undefined
    const exited = new Promise<void>((resolve) => (markExited = resolve))
    const drained = new Promise<void>((resolve) => {
      if (reader === undefined) return resolve()
      reader.on('data', (d: Buffer) => log.write(d))
      reader.once('close', () => resolve())
      reader.on('error', () => undefined)
    })
    const a: Attached = { pid, child, reader, log, exited, markExited }
    this.attached.set(attachedKey(key, container), a)
    if (own !== undefined) {
      // Once it exits, let the reader drain what the process wrote before it died (bounded: its own children
      // may still hold the pipe open), then record the exit.
      void own.exit.then(async (exitCode) => {
        await Promise.race([drained, sleep(1000)])
        if (this.attached.get(attachedKey(key, container)) !== a) return a.markExited() // detached: closed or replaced
        await this.recordExit(key, container, pid, exitCode).catch(() => undefined)
        if (this.attached.get(attachedKey(key, container)) === a) this.detach(key, container)
        a.markExited()
      })
    } else this.startLivenessTimer()
  }

  private detach(key: string, container: string): void {
    const k = attachedKey(key, container)
    const a = this.attached.get(k)
    if (a === undefined) return
    this.attached.delete(k)
    a.reader?.destroy()
    try {
      a.log.close()
    } catch {
      // the log directory was removed with the pod
    }
    a.markExited()
  }

  private startLivenessTimer(): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setInterval(() => void this.checkAdopted(), this.options.livenessIntervalMs ?? 1000)
    this.timer.unref()
  }

  private async checkAdopted(): Promise<void> {
    for (const [k, a] of this.attached) {
      if (a.child !== undefined) continue
      const [key, name] = k.split('\0') as [string, string]
      const c = (await this.read(key))?.containers[name]
      if (c === undefined || c.pid !== a.pid || !(await this.isRunning(c))) {
        await this.recordExit(key, name, a.pid, undefined)
        if (this.attached.get(k) === a) this.detach(key, name)
      }
    }
  }

  /** Marks the container exited if it is still recorded as running with `pid`; returns the new record. */
  private async recordExit(key: string, container: string, pid: number | undefined, exitCode: number | undefined): Promise<ContainerRecord | undefined> {
    if (this.closed) return undefined
    let changed: ContainerRecord | undefined
    await this.locked(key, async () => {
      const record = await this.read(key)
      const c = record?.containers[container]
      if (record === undefined || c === undefined || c.state !== 'running' || c.pid !== pid) return
      changed = { ...c, state: 'exited', finishedAt: new Date().toISOString() }
      if (exitCode !== undefined) changed.exitCode = exitCode
      record.containers[container] = changed
      await this.write(record)
    })
    if (changed !== undefined) this.emit(key)
    return changed
  }

  private async ensureSandboxLocked(spec: RuntimePodSpec): Promise<PodRecord> {
    const record = (await this.read(spec.key)) ?? { version: 1 as const, owner: this.options.owner, key: spec.key, specHash: spec.specHash, netnsName: spec.netnsName, containers: {} }
    record.specHash = spec.specHash
    record.netnsName = spec.netnsName
    for (const c of spec.containers) record.containers[c.name] ??= { command: [...c.command], env: { ...c.env }, state: 'created' }
    // Written before the namespace is created, so a crash in between leaves a record that removePod can undo.
    await this.write(record)
    // A stale /run/netns file without its mount (host restart) is replaced; ensureNetns alone would keep it.
    if (!(await isNetnsMounted(spec.netnsName))) {
      await deleteNetns(spec.netnsName).catch(() => undefined)
      await rm(`${NETNS_DIR}/${spec.netnsName}`, { force: true })
    }
    await ensureNetns(spec.netnsName)
    return record
  }

  private isChild(key: string, container: string, pid: number | undefined): boolean {
    const a = this.attached.get(attachedKey(key, container))
    return a?.child !== undefined && a.pid === pid
  }

  private async isRunning(c: ContainerRecord): Promise<boolean> {
    if (c.pid === undefined) return false
    return isSameLiveProcess(c.pid, c.startTime ?? '')
  }

  private async waitGone(c: ContainerRecord, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms
    for (;;) {
      if (!(await this.isRunning(c))) return true
      if (Date.now() >= deadline) return false
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())))
    }
  }

  private emit(key: string): void {
    if (this.closed) return
    for (const l of this.listeners) l(key)
  }

  /** Serialises state-file read-modify-write per pod. */
  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => undefined)
    this.locks.set(key, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key)
    }
  }

  private podPath(key: string): string {
    return join(this.podsDir, `${fileKey(key)}.json`)
  }

  private async read(key: string): Promise<PodRecord | undefined> {
    return this.readPath(this.podPath(key))
  }

  private async readPath(path: string): Promise<PodRecord | undefined> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new RuntimeStateCorruptError(path, 'cannot read', err)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new RuntimeStateCorruptError(path, 'not JSON', err)
    }
    const r = PodRecordSchema.safeParse(parsed)
    if (!r.success) throw new RuntimeStateCorruptError(path, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    return r.data.owner === this.options.owner ? r.data : undefined
  }

  private async readAll(): Promise<PodRecord[]> {
    const names = await readdir(this.podsDir).catch(() => [] as string[])
    const out: PodRecord[] = []
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const r = await this.readPath(join(this.podsDir, n))
      if (r !== undefined) out.push(r)
    }
    return out
  }

  private async write(record: PodRecord): Promise<void> {
    await mkdir(this.podsDir, { recursive: true })
    const path = this.podPath(record.key)
    const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.writeFile(JSON.stringify(record, null, 2))
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  }
}

/** A non-blocking reader on a container's output fifo, or undefined when the fifo is gone (output is lost). */
function openFifoReader(fifo: string): Socket | undefined {
  try {
    const reader = new Socket({ fd: openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), readable: true, writable: false })
    reader.unref()
    return reader
  } catch {
    return undefined
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal) // not a group leader (should not happen: spawned detached)
    } catch {
      // already gone
    }
  }
}

function toContainerState(name: string, c: ContainerRecord): RuntimeContainerState {
  const s: RuntimeContainerState = { name, state: c.state }
  if (c.exitCode !== undefined) s.exitCode = c.exitCode
  if (c.startedAt !== undefined) s.startedAt = c.startedAt
  if (c.finishedAt !== undefined) s.finishedAt = c.finishedAt
  if (c.state === 'running' && c.pid !== undefined) s.pid = c.pid
  return s
}
