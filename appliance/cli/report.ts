/** How dpuctl prints failures: the server's title and detail, then each field issue with the object it is in. */
import type { CliIO, ExitCode } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { isApplianceError } from '../../api/errors.js'
import { ServerProblemError } from './errors.js'

/** Where an object of a request came from (`apply -f`): the server's `items[N]` is shown as `source:line`. */
export interface DocumentOrigin {
  source: string
  line: number
}

/** `FILE:LINE` of the object a problem names by index (or of the only object sent), if known. */
function originOf(problem: Record<string, unknown>, origins: readonly DocumentOrigin[]): string | undefined {
  const object = problem.object as { index?: unknown } | undefined
  const o = typeof object?.index === 'number' ? origins[object.index] : origins.length === 1 ? origins[0] : undefined
  return o ? `${o.source}:${o.line}` : undefined
}

function objectLabel(o: unknown, origin: string | undefined): string {
  if (typeof o !== 'object' || o === null) return origin ?? ''
  const r = o as Record<string, unknown>
  const name = r.name === undefined ? '' : `${r.namespace ?? 'default'}/${r.name}`
  const where = origin ?? (r.index === undefined ? '' : `items[${r.index}]`)
  return [where, typeof r.kind === 'string' ? r.kind : '', name].filter(Boolean).join(' ')
}

/**
 * Prints `err` and returns the exit code (usage errors are re-thrown for the dispatcher). With `origins` (the
 * documents of the request, in order), a server problem about the N-th object names its file and line.
 */
export function reportError(err: unknown, io: CliIO, origins: readonly DocumentOrigin[] = []): ExitCode {
  if (err instanceof UsageError) throw err
  if (err instanceof ServerProblemError) {
    const title = typeof err.problem.title === 'string' ? err.problem.title : 'error'
    const origin = originOf(err.problem, origins)
    const message = origin ? `${origin}: ${err.message.replace(/^items\[\d+\]: /, '')}` : err.message
    io.stderr.write(`Error from server (${title}, ${err.status}): ${message}\n`)
    const label = objectLabel(err.problem.object, origin)
    for (const i of err.issues) io.stderr.write(`  ${label ? `${label}: ` : ''}${i.path || '(object)'}: ${i.message}\n`)
    return 1
  }
  if (isApplianceError(err)) {
    io.stderr.write(`error: ${err.message}\n`)
    for (const i of err.issues) io.stderr.write(`  ${i.path || '(object)'}: ${i.message}\n`)
    return 1
  }
  throw err
}
