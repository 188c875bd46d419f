/** Starting and stopping real hub and agent processes for federation tests (killed by pid on cleanup). */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Proc {
  child: ChildProcess
  /** stdout and stderr as they arrived, interleaved. */
  output(): string
  stdout(): string
  stderr(): string
  /** SIGKILL (or the given signal) and wait for exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

function track(child: ChildProcess): Proc {
  let out = ''
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString()
    stderr += d.toString()
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

export interface HubProcess extends Proc {
  grpcPort: number
  apiPort: number
}

/** `dpuctl hub run` from source; resolves once it printed its ports. */
export async function startHubProcess(args: string[]): Promise<HubProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'dpuctl.mjs'), 'hub', 'run', ...args], {
    cwd: ROOT,
    env: { ...process.env, DPUCTL_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const p = track(child)
  const t0 = Date.now()
  for (;;) {
    const m = /hub listening grpc=(\d+) api=(\d+)/.exec(p.output())
    if (m) return { ...p, grpcPort: Number(m[1]), apiPort: Number(m[2]) }
    if (child.exitCode !== null || Date.now() - t0 > 20_000) {
      await p.kill()
      throw new Error(`hub did not start:\n${p.output()}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface AgentProcess extends Proc {
  state(): AgentProcessState | null
}

export interface AgentProcessState {
  connection: string
  syncedRevision: number
  lastHubContact: string | null
  lastError: { code: string; message: string } | null
  bytesReceived: number
  messagesReceived: number
  revisionsApplied: number
  pid: number
}

/** test/support/agent-process.ts in its own process. */
export function startAgentProcess(env: Record<string, string>): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'agent-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const p = track(child)
  return {
    ...p,
    state() {
      const file = env.AGENT_STATE
      if (!file || !existsSync(file)) return null
      // The file is replaced by rename, so a read sees a whole old or new version; retry a torn read anyway.
      for (let i = 0; i < 3; i++) {
        try {
          return JSON.parse(readFileSync(file, 'utf8')) as AgentProcessState
        } catch {
          // renamed away between existsSync and read
        }
      }
      return null
    },
  }
}

export async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
