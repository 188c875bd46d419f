/**
 * `dpuctl logs`, `exec` and `restart`: what an operator does to a running Service, through the appliance's
 * service routes (`.../services/{name}/log|exec|restart`). SERVICE is a Service's name; `service/NAME` and
 * `restart service NAME` are accepted too, as kubectl accepts `pod/NAME`.
 */
import type { CliCommand, CliIO, ExitCode } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { parseFlags } from '../../api/cli-flags.js'
import { DEFAULT_NAMESPACE } from '../../api/meta.js'
import { MAX_EXEC_TIMEOUT_SECONDS, type ServiceExecResult, type ServiceRestartResult } from '../../api/service-ops.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { reportError } from './report.js'
import { parseTimeout } from './wait.js'
import { abortOnInterrupt } from './interrupt.js'

const SERVICE_WORDS = new Set(['service', 'services', 'svc', 'Service'])

/** `fwd`, `service/fwd` or `svc/fwd` -> `fwd`. */
export function serviceName(word: string): string {
  const slash = word.indexOf('/')
  if (slash < 0) return word
  const kind = word.slice(0, slash)
  if (!SERVICE_WORDS.has(kind)) throw new UsageError(`"${word}": only services have logs, exec and restart (service/NAME or NAME)`)
  return word.slice(slash + 1)
}

function servicePath(namespace: string, name: string, op: 'log' | 'exec' | 'restart'): string {
  return `/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}/${op}`
}

/** `--since 5m` -> seconds (at least 1). */
export function parseSince(text: string): number {
  let ms: number
  try {
    ms = parseTimeout(text)
  } catch {
    throw new UsageError(`--since must be a duration like 30s, 5m or 2h, got "${text}"`)
  }
  if (ms < 1000) throw new UsageError(`--since must be at least 1s, got "${text}"`)
  return Math.ceil(ms / 1000)
}

/** The query of `GET .../log` from `logs` flags. */
export function logQuery(values: { container?: string | undefined; follow?: boolean | undefined; tail?: string | undefined; since?: string | undefined }): URLSearchParams {
  const q = new URLSearchParams()
  if (values.container !== undefined) q.set('container', values.container)
  if (values.follow) q.set('follow', 'true')
  if (values.tail !== undefined) {
    if (!/^\d+$/.test(values.tail)) throw new UsageError(`--tail must be a number of lines, got "${values.tail}"`)
    q.set('tailLines', values.tail)
  }
  if (values.since !== undefined) q.set('sinceSeconds', String(parseSince(values.since)))
  return q
}

export const logsCommand: CliCommand = {
  path: ['logs'],
  summary: "print a service container's output; -f follows it",
  usage: `Usage: dpuctl logs SERVICE [-c CONTAINER] [-f] [--tail N] [--since DURATION] [-n NS] [--server URL] [--token-file F]

SERVICE is a Service's name (or service/NAME). Prints what the container wrote to stdout and stderr.
  -c, --container C   the container (default: the service's first container)
  -f, --follow        keep printing new output until Ctrl-C
  --tail N            only the last N lines
  --since DURATION    only output of the last DURATION (30s, 5m, 2h)`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...CLIENT_OPTIONS,
        namespace: { type: 'string', short: 'n' },
        container: { type: 'string', short: 'c' },
        follow: { type: 'boolean', short: 'f' },
        tail: { type: 'string' },
        since: { type: 'string' },
      },
      1,
    )
    if (positionals[0] === undefined) throw new UsageError('logs needs a SERVICE')
    const name = serviceName(positionals[0])
    const q = logQuery(values)
    try {
      const client = ApplianceClient.fromFlags(values, io)
      return await printLog(client, `${servicePath(values.namespace ?? DEFAULT_NAMESPACE, name, 'log')}?${q}`, io)
    } catch (err) {
      return reportError(err, io)
    }
  },
}

/** Copies the log body to stdout until it ends, Ctrl-C, or stdout's reader goes away. */
async function printLog(client: ApplianceClient, path: string, io: CliIO): Promise<ExitCode> {
  const interrupt = abortOnInterrupt(io)
  try {
    let body: AsyncIterable<Uint8Array>
    try {
      body = await client.stream(path, interrupt.signal, 'text/plain')
    } catch (err) {
      if (interrupt.signal.aborted) return 0
      throw err
    }
    try {
      for await (const chunk of body) io.stdout.write(chunk)
    } catch (err) {
      if (interrupt.signal.aborted) return 0
      io.stderr.write(`error: the log stream broke: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}\n`)
      return 1
    }
    return 0
  } finally {
    interrupt.release()
  }
}

/** `exec` arguments: flags before `--`, the command after it. */
export function splitExecArgs(args: readonly string[]): { flags: string[]; command: string[] } {
  const dash = args.indexOf('--')
  if (dash < 0) throw new UsageError('exec needs -- before the command (dpuctl exec SERVICE -- CMD ARGS...)')
  const command = args.slice(dash + 1)
  if (command.length === 0) throw new UsageError('exec needs a command after --')
  return { flags: args.slice(0, dash), command }
}

export const execCommand: CliCommand = {
  path: ['exec'],
  summary: "run a command in a service's container; exits with its exit code",
  usage: `Usage: dpuctl exec SERVICE [-c CONTAINER] [--timeout DURATION] [-n NS] [--server URL] [--token-file F] -- CMD [ARGS...]

Runs CMD in a running container of the Service (non-interactive: no stdin, no terminal), prints its stdout
and stderr, and exits with its exit code.
  -c, --container C     the container (default: the service's first container)
  --timeout DURATION    kill the command after DURATION (default 30s, at most ${MAX_EXEC_TIMEOUT_SECONDS}s)`,
  async run(args, io) {
    const { flags, command } = splitExecArgs(args)
    const { values, positionals } = parseFlags(flags, { ...CLIENT_OPTIONS, namespace: { type: 'string', short: 'n' }, container: { type: 'string', short: 'c' }, timeout: { type: 'string' } }, 1)
    if (positionals[0] === undefined) throw new UsageError('exec needs a SERVICE')
    const name = serviceName(positionals[0])
    const timeoutSeconds = values.timeout === undefined ? undefined : Math.ceil(parseTimeout(values.timeout) / 1000)
    if (timeoutSeconds !== undefined && (timeoutSeconds < 1 || timeoutSeconds > MAX_EXEC_TIMEOUT_SECONDS)) throw new UsageError(`--timeout must be between 1s and ${MAX_EXEC_TIMEOUT_SECONDS}s`)
    try {
      const client = ApplianceClient.fromFlags(values, io)
      const r = await client.request<ServiceExecResult>('POST', servicePath(values.namespace ?? DEFAULT_NAMESPACE, name, 'exec'), {
        command,
        ...(values.container !== undefined ? { container: values.container } : {}),
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      })
      io.stdout.write(r.stdout)
      io.stderr.write(r.stderr)
      if (r.truncated) io.stderr.write('dpuctl: output truncated by the appliance\n')
      return r.exitCode
    } catch (err) {
      return reportError(err, io)
    }
  },
}

export const restartCommand: CliCommand = {
  path: ['restart'],
  summary: "restart a service's containers (its interfaces stay)",
  usage: `Usage: dpuctl restart [service] SERVICE [-n NS] [--server URL] [--token-file F]

Stops every container of the Service and lets the appliance start them again at once (no backoff). The pod's
network namespace and interfaces stay, so chains through the service keep their flows. Each container's
restart count goes up by one.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_OPTIONS, namespace: { type: 'string', short: 'n' } }, 2)
    const words = positionals.length === 2 && SERVICE_WORDS.has(positionals[0]!) ? positionals.slice(1) : positionals
    if (words.length !== 1) throw new UsageError(positionals.length === 0 ? 'restart needs a SERVICE' : `restart takes one SERVICE, got "${positionals.join(' ')}"`)
    const name = serviceName(words[0]!)
    try {
      const client = ApplianceClient.fromFlags(values, io)
      const r = await client.request<ServiceRestartResult>('POST', servicePath(values.namespace ?? DEFAULT_NAMESPACE, name, 'restart'))
      io.stdout.write(`service/${name} restarted (${r.containers.join(', ')})\n`)
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
