/** How dpuctl prints failures: the server's title and detail, then each field issue with the object it is in. */
import type { CliIO, ExitCode } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { isApplianceError } from '../../api/errors.js'
import { ServerProblemError } from './errors.js'

function objectLabel(o: unknown): string {
  if (typeof o !== 'object' || o === null) return ''
  const r = o as Record<string, unknown>
  const name = r.name === undefined ? '' : `${r.namespace ?? 'default'}/${r.name}`
  const parts = [r.index === undefined ? '' : `items[${r.index}]`, typeof r.kind === 'string' ? r.kind : '', name].filter(Boolean)
  return parts.join(' ')
}

/** Prints `err` and returns the exit code (usage errors are re-thrown for the dispatcher). */
export function reportError(err: unknown, io: CliIO): ExitCode {
  if (err instanceof UsageError) throw err
  if (err instanceof ServerProblemError) {
    const title = typeof err.problem.title === 'string' ? err.problem.title : 'error'
    io.stderr.write(`Error from server (${title}, ${err.status}): ${err.message}\n`)
    const label = objectLabel(err.problem.object)
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
