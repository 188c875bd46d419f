/**
 * Runs `helm template` for one chart: the configured binary, its argv built here (never a shell), the values
 * in a private temporary file, a timeout and a cap on what it may print. helm itself is not part of the
 * product: the hub only runs what `--helm PATH` names.
 *
 *   https repo:  helm template <release> <chart> --repo <repoURL> --version <V> --namespace <ns> --values <file>
 *   oci:// repo: helm template <release> <repoURL>/<chart> --version <V> --namespace <ns> --values <file>
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HelmRenderError } from './errors.js'

export interface ChartRef {
  repoURL: string
  chart?: string | undefined
  version: string
  /** A path inside a git repository (DPF's Argo CD source); helm cannot read those. */
  path?: string | undefined
}

export interface HelmRunLimits {
  /** helm is killed (SIGKILL) after this many ms. */
  timeoutMs: number
  /** helm is killed once its stdout passes this many bytes. */
  maxOutputBytes: number
}

/** Bytes of stderr kept for the condition message (the end: helm prints its error last). */
const STDERR_TAIL_BYTES = 2048
/** Helm release names: DNS-1123 labels, at most 53 characters (helm's own limit). */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/
/** A chart name or OCI path segment; never starts with `-`, so it cannot be read as a flag. */
const CHART_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/

/** The argv after the binary (values file last); throws ChartSourceUnsupported for what helm cannot fetch. */
export function buildHelmArgs(release: string, namespace: string, source: ChartRef, valuesFile: string): string[] {
  const where = `${source.repoURL} ${source.chart ?? source.path ?? ''}@${source.version}`
  if (!RELEASE_NAME.test(release))
    throw new HelmRenderError('ChartSourceUnsupported', `release name "${release}" is not a helm release name (DNS-1123 label, at most 53 characters)`, { context: { release } })
  if (source.version.startsWith('-')) throw new HelmRenderError('ChartSourceUnsupported', `chart version "${source.version}" must not start with "-"`, { context: { version: source.version } })
  const tail = ['--version', source.version, '--namespace', namespace, '--values', valuesFile]
  if (source.repoURL.startsWith('oci://')) {
    if (source.chart !== undefined && !CHART_NAME.test(source.chart))
      throw new HelmRenderError('ChartSourceUnsupported', `chart "${source.chart}" is not a chart name`, { context: { chart: source.chart } })
    const ref = source.chart === undefined ? source.repoURL : `${source.repoURL.replace(/\/+$/, '')}/${source.chart}`
    return ['template', release, ref, ...tail]
  }
  if (source.chart === undefined)
    throw new HelmRenderError('ChartSourceUnsupported', `${where}: a chart in a git repository (path, no chart) is not supported; publish it to a Helm or OCI repository`, {
      context: { repoURL: source.repoURL, path: source.path },
    })
  if (!CHART_NAME.test(source.chart)) throw new HelmRenderError('ChartSourceUnsupported', `chart "${source.chart}" is not a chart name`, { context: { chart: source.chart } })
  return ['template', release, source.chart, '--repo', source.repoURL, ...tail]
}

/**
 * Prints the chart's manifests: runs `helmPath template ...` with `values` (JSON is YAML) in a 0600 file of a
 * fresh temporary directory, removed afterwards. Throws HelmRenderError: HelmNotExecutable, HelmFailed (exit
 * code and stderr tail), HelmTimeout, HelmOutputTooLarge.
 */
export async function runHelmTemplate(helmPath: string, args: { release: string; namespace: string; source: ChartRef; values: Record<string, unknown> }, limits: HelmRunLimits): Promise<string> {
  try {
    await access(helmPath, constants.X_OK)
  } catch (err) {
    throw new HelmRenderError('HelmNotExecutable', `--helm ${helmPath} is not an executable file`, { context: { helm: helmPath }, cause: err })
  }
  const dir = await mkdtemp(join(tmpdir(), 'dpu-hub-helm-'))
  try {
    const valuesFile = join(dir, 'values.yaml')
    const argv = buildHelmArgs(args.release, args.namespace, args.source, valuesFile)
    await writeFile(valuesFile, JSON.stringify(args.values), { mode: 0o600 })
    return await spawnBounded(helmPath, argv, limits)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function spawnBounded(file: string, argv: string[], limits: HelmRunLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout kills whatever helm started too (plugins, a wrapper script's children),
    // and no grandchild keeps the pipes open after helm is gone.
    const child = spawn(file, argv, { shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let outBytes = 0
    let errTail = Buffer.alloc(0)
    let failure: HelmRenderError | null = null
    const stop = (err: HelmRenderError): void => {
      failure ??= err
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL') // the group is gone already, or was never made
      }
    }
    const timer = setTimeout(
      () => stop(new HelmRenderError('HelmTimeout', `helm template did not finish within ${limits.timeoutMs} ms`, { retryable: true, context: { timeoutMs: limits.timeoutMs } })),
      limits.timeoutMs,
    )
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length
      if (outBytes > limits.maxOutputBytes)
        return stop(new HelmRenderError('HelmOutputTooLarge', `helm template printed more than ${limits.maxOutputBytes} bytes`, { context: { maxOutputBytes: limits.maxOutputBytes } }))
      out.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      errTail = Buffer.concat([errTail, chunk])
      if (errTail.length > STDERR_TAIL_BYTES) errTail = errTail.subarray(errTail.length - STDERR_TAIL_BYTES)
    })
    child.on('error', (err) => stop(new HelmRenderError('HelmNotExecutable', `cannot run ${file}: ${err.message}`, { cause: err, context: { helm: file } })))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stderr = errTail.toString('utf8').trim()
      if (failure) return reject(withStderr(failure, stderr))
      if (code !== 0) {
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`
        return reject(new HelmRenderError('HelmFailed', `helm template ${how}${stderr ? `: ${stderr}` : ''}`, { retryable: true, context: { code, signal, stderr } }))
      }
      resolve(Buffer.concat(out).toString('utf8'))
    })
  })
}

function withStderr(err: HelmRenderError, stderr: string): HelmRenderError {
  if (!stderr) return err
  return new HelmRenderError(err.reason, `${err.message}: ${stderr}`, { context: { ...err.context, stderr }, retryable: err.retryable, cause: err.cause })
}
