/**
 * Kubernetes probes for appliance services. exec runs through the backend (inside the container); tcpSocket and
 * httpGet run inside the pod's network namespace (`nsenter --net`), where the default host 127.0.0.1 reaches what
 * the service listens on, as kubelet reaches the pod IP. One timer per probe, created when its container starts
 * and cleared when it stops, so the number of timers is bounded by the services' containers (<= 3 per container).
 */
import { execFile } from 'node:child_process'
import type { ServiceRuntime } from '../runtime/services/runtime.js'
import type { ContainerView, ProbeView } from './service-view.js'

export type ProbeKind = 'startup' | 'readiness' | 'liveness'

export interface ProbeStatus {
  /** undefined until the first result (readiness: not ready; liveness: alive). */
  ok: boolean | undefined
  message: string
  consecutiveFailures: number
}

function resolvePort(port: number | string, container: ContainerView): number | undefined {
  if (typeof port === 'number') return port
  if (/^[0-9]+$/.test(port)) return Number(port)
  return container.ports?.find((p) => p.name === port)?.containerPort
}

/** Runs argv under `nsenter --net=/run/netns/<netns>` with a timeout; resolves with the exit code and output. */
function inNetns(netns: string, argv: string[], timeoutMs: number, input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('nsenter', [`--net=/run/netns/${netns}`, '--', ...argv], { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
      resolve({ code, out: `${stdout}${stderr}`.trim() })
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** One probe attempt: [ok, message]. */
export async function runProbe(probe: ProbeView, ctx: { runtime: ServiceRuntime; key: string; container: ContainerView; netns: string }): Promise<[boolean, string]> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000
  if (probe.exec) {
    try {
      const r = await ctx.runtime.exec(ctx.key, ctx.container.name, probe.exec.command, timeoutMs)
      return r.exitCode === 0 ? [true, 'exec exited 0'] : [false, `exec ${JSON.stringify(probe.exec.command)} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-200)}`]
    } catch (err) {
      return [false, `exec failed: ${(err as Error).message}`]
    }
  }
  const target = probe.tcpSocket ?? probe.httpGet
  if (!target) return [false, 'probe has no handler']
  const port = resolvePort(target.port, ctx.container)
  if (port === undefined) return [false, `port ${JSON.stringify(target.port)} is not a named port of container ${ctx.container.name}`]
  const host = target.host ?? '127.0.0.1'
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) return [false, `host ${JSON.stringify(host)} is not a plain host name or address`]
  if (probe.tcpSocket) {
    const r = await inNetns(ctx.netns, ['bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', host, String(port)], timeoutMs)
    return r.code === 0 ? [true, `tcp ${host}:${port} connected`] : [false, `tcp ${host}:${port}: ${r.out || 'connection failed'}`]
  }
  const path = probe.httpGet!.path ?? '/'
  if (probe.httpGet!.scheme === 'HTTPS') {
    const r = await inNetns(ctx.netns, ['openssl', 's_client', '-quiet', '-connect', `${host}:${port}`], timeoutMs, `GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`)
    return statusOf(r.out, host, port, path)
  }
  const script = 'exec 3<>"/dev/tcp/$0/$1" || exit 2; printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$2" "$0" >&3; head -n 1 <&3'
  const r = await inNetns(ctx.netns, ['bash', '-c', script, host, String(port), path], timeoutMs)
  return statusOf(r.out, host, port, path)
}

function statusOf(out: string, host: string, port: number, path: string): [boolean, string] {
  const m = /HTTP\/[0-9.]+ ([0-9]{3})/.exec(out)
  if (!m) return [false, `http ${host}:${port}${path}: no HTTP response${out ? ` (${out.slice(0, 120)})` : ''}`]
  const code = Number(m[1])
  return code >= 200 && code < 400 ? [true, `http ${host}:${port}${path}: ${code}`] : [false, `http ${host}:${port}${path}: status ${code}`]
}

/**
 * The probes of one running container: each on its own timer, results kept here; `onChange` fires when a probe's
 * verdict flips (the reconciler then writes status or restarts the container).
 */
export class ContainerProbes {
  readonly status = new Map<ProbeKind, ProbeStatus>()
  /** One pending timer per probe kind. */
  private readonly timers = new Map<ProbeKind, NodeJS.Timeout>()
  private stopped = false
  private startupDone: boolean

  constructor(
    private readonly ctx: { runtime: ServiceRuntime; key: string; container: ContainerView; netns: string },
    private readonly onChange: () => void,
  ) {
    const c = ctx.container
    this.startupDone = c.startupProbe === undefined
    for (const [kind, probe] of [
      ['startup', c.startupProbe],
      ['readiness', c.readinessProbe],
      ['liveness', c.livenessProbe],
    ] as const) {
      if (!probe) continue
      this.status.set(kind, { ok: undefined, message: 'not probed yet', consecutiveFailures: 0 })
      this.timers.set(
        kind,
        setTimeout(() => void this.tick(kind, probe), (probe.initialDelaySeconds ?? 0) * 1000),
      )
    }
  }

  /** Readiness as Kubernetes sees it: no readiness probe means ready once running (and started). */
  ready(): boolean {
    if (!this.startupDone) return false
    const r = this.status.get('readiness')
    return r === undefined ? true : r.ok === true
  }

  /** Liveness (or startup) failed its threshold: the container must be restarted. */
  failed(): { kind: ProbeKind; message: string } | undefined {
    for (const kind of ['startup', 'liveness'] as const) {
      const s = this.status.get(kind)
      const probe = kind === 'startup' ? this.ctx.container.startupProbe : this.ctx.container.livenessProbe
      if (s && probe && s.consecutiveFailures >= (probe.failureThreshold ?? 3)) return { kind, message: s.message }
    }
    return undefined
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private async tick(kind: ProbeKind, probe: ProbeView): Promise<void> {
    if (this.stopped) return
    // Kubernetes runs liveness and readiness only after the startup probe succeeded.
    if (kind !== 'startup' && !this.startupDone) return this.schedule(kind, probe)
    if (kind === 'startup' && this.startupDone) return
    const [ok, message] = await runProbe(probe, this.ctx)
    if (this.stopped) return
    const prev = this.status.get(kind)!
    const failures = ok ? 0 : prev.consecutiveFailures + 1
    const threshold = ok ? 1 : (probe.failureThreshold ?? 3)
    // A verdict flips after `failureThreshold` consecutive failures (or one success); until then the old one holds.
    const verdict = ok ? (prev.consecutiveFailures === 0 || prev.ok !== true ? true : prev.ok) : failures >= threshold ? false : prev.ok
    this.status.set(kind, { ok: verdict, message, consecutiveFailures: failures })
    if (kind === 'startup' && ok) this.startupDone = true
    if (verdict !== prev.ok || (kind !== 'readiness' && failures >= threshold) || (kind === 'startup' && ok)) this.onChange()
    this.schedule(kind, probe)
  }

  private schedule(kind: ProbeKind, probe: ProbeView): void {
    if (this.stopped) return
    this.timers.set(
      kind,
      setTimeout(() => void this.tick(kind, probe), (probe.periodSeconds ?? 10) * 1000),
    )
  }
}
