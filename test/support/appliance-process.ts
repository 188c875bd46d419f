/**
 * Runs the real `dpuctl` (TypeScript sources through tsx, so tests do not depend on a build): an appliance
 * started with `dpuctl appliance run` on a free loopback port in a fresh temp directory, stopped by pid, and
 * one-shot client invocations. Everything started here is stopped by `stop()`; temp dirs are removed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { APPLIANCE_ENV, APPLIANCE_NODE_FLAGS } from '../../api/support/appliance-runtime.js'
import { guardPid, releasePid } from '../../bin/demo/exit-guard.js'

export const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
/**
 * The TypeScript sources through tsx, so tests never depend on a stale build; `DPUCTL_BUILT=1` runs the compiled
 * `dist/` through the launcher instead (benchmarks: what a deployed appliance runs).
 */
export const DPUCTL_ARGS = process.env.DPUCTL_BUILT === '1' ? [join(REPO_ROOT, 'bin', 'dpuctl.mjs')] : ['--import', 'tsx', join(REPO_ROOT, 'bin', 'dpuctl.ts')]

export interface ApplianceProcess {
  url: string
  dataDir: string
  tokenFile: string
  token: string
  pid: number
  child: ChildProcess
  /** Every stderr line so far (JSON log lines). */
  logs: string[]
  /** Env that points dpuctl client commands at this appliance. */
  clientEnv: NodeJS.ProcessEnv
  /** Sends `signal` (default SIGTERM), waits for exit; resolves the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>
  /** stop() and remove the data directory. */
  dispose(): Promise<void>
}

export interface ApplianceProcessOptions {
  nodeName?: string
  nodeLabels?: Record<string, string>
  /** Reuse a data directory (restart tests); otherwise a fresh temp dir. */
  dataDir?: string
  extraArgs?: string[]
  /** Run against this OVS sandbox; without it the appliance runs with `--ovsdb none` (API and store only). */
  ovs?: { dbRemote: string; rundir: string; netns: string | undefined }
  startTimeoutMs?: number
  /** Node flags for the appliance process (`--cpu-prof`, `--trace-gc`: flags NODE_OPTIONS refuses). */
  nodeArgs?: string[]
}

export async function startApplianceProcess(opts: ApplianceProcessOptions = {}): Promise<ApplianceProcess> {
  const ownDir = opts.dataDir === undefined
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'appliance-'))
  // Started as the systemd unit starts it (V8 flags, allocator environment); `nodeArgs` come after, so they win.
  const args = [
    ...APPLIANCE_NODE_FLAGS,
    ...(opts.nodeArgs ?? []),
    ...DPUCTL_ARGS,
    'appliance',
    'run',
    '--data-dir',
    dataDir,
    '--listen',
    '127.0.0.1:0',
    '--node-name',
    opts.nodeName ?? 'dpu-test',
    ...Object.entries(opts.nodeLabels ?? {}).flatMap(([k, v]) => ['--node-label', `${k}=${v}`]),
    ...(opts.ovs ? ['--ovsdb', opts.ovs.dbRemote, '--ovs-rundir', opts.ovs.rundir, ...(opts.ovs.netns ? ['--ovs-netns', opts.ovs.netns] : [])] : ['--ovsdb', 'none']),
    ...(opts.extraArgs ?? []),
  ]
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...APPLIANCE_ENV }, stdio: ['ignore', 'pipe', 'pipe'] })
  guardPid(child.pid)
  child.once('exit', () => releasePid(child.pid))
  const logs: string[] = []
  const exited: Promise<number | string> = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
  let buffer = ''
  const listening = new Promise<{ url: string; tokenFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start in time; logs:\n${logs.join('\n')}`)), opts.startTimeoutMs ?? 20_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      let i
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 1)
        logs.push(line)
        try {
          const rec = JSON.parse(line) as { url?: string; tokenFile?: string; msg?: string }
          if (rec.url && rec.tokenFile && rec.msg?.startsWith('listening on')) {
            clearTimeout(timer)
            resolve({ url: rec.url, tokenFile: rec.tokenFile })
          }
        } catch {
          // not a JSON line (e.g. a crash trace); kept in logs
        }
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`appliance exited (${code}) before listening; logs:\n${logs.join('\n')}`))
    })
  })
  child.stdout!.resume()
  let ready
  try {
    ready = await listening
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL')
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  const token = readFileSync(ready.tokenFile, 'utf8').trim()
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    url: ready.url,
    dataDir,
    tokenFile: ready.tokenFile,
    token,
    pid: child.pid!,
    child,
    logs,
    clientEnv: { ...process.env, DPUCTL_SERVER: ready.url, DPUCTL_TOKEN_FILE: ready.tokenFile },
    stop,
    async dispose() {
      await stop('SIGTERM')
      if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface DpuctlResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs one dpuctl command to completion. */
export function runDpuctl(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<DpuctlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...DPUCTL_ARGS, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

export interface RunningDpuctl {
  child: ChildProcess
  /** Everything printed so far. */
  stdout(): string
  stderr(): string
  /** Resolves the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>
  /** Sends `signal` (default SIGINT) unless the process has ended; resolves its exit code. Kills after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

/** Starts a long-running dpuctl command (`get -w`) whose output is read while it runs. */
export function startDpuctl(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningDpuctl {
  const child = spawn(process.execPath, [...DPUCTL_ARGS, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  guardPid(child.pid)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      releasePid(child.pid)
      resolve(code ?? signal ?? 'unknown')
    }),
  )
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
