/**
 * What the service operations of the local API take (`dpuctl logs`, `exec`, `restart`), checked at the edge:
 * the query of `GET .../services/{name}/log` (Kubernetes' pods/log names: container, follow, tailLines,
 * sinceSeconds | sinceTime) and the body of `POST .../services/{name}/exec` (non-interactive: no stdin, no tty).
 */
import { z } from 'zod'
import { NameSchema } from './meta.js'

/** The longest a `dpuctl exec` command may run (seconds); the default is `DEFAULT_EXEC_TIMEOUT_SECONDS`. */
export const MAX_EXEC_TIMEOUT_SECONDS = 300
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 30
/** stdout and stderr of an exec are each cut to this many bytes in the answer (`truncated` says so). */
export const MAX_EXEC_OUTPUT_BYTES = 1024 * 1024
const MAX_ARGS = 256

const boolWord = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')
const count = (what: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${what} must be a non-negative integer`)
    .transform(Number)

export const ServiceLogQuerySchema = z
  .object({
    container: NameSchema.optional(),
    follow: boolWord.optional(),
    tailLines: count('tailLines').optional(),
    sinceSeconds: count('sinceSeconds')
      .refine((n) => n > 0, 'sinceSeconds must be at least 1')
      .optional(),
    sinceTime: z.iso.datetime({ offset: true, message: 'sinceTime must be an RFC 3339 time (2026-01-02T03:04:05Z)' }).optional(),
  })
  .strict()
  .refine((q) => q.sinceSeconds === undefined || q.sinceTime === undefined, { message: 'give sinceSeconds or sinceTime, not both', path: ['sinceTime'] })

export const ServiceExecRequestSchema = z
  .object({
    container: NameSchema.optional(),
    command: z
      .array(z.string().max(64 * 1024))
      .min(1, 'command must name a program')
      .max(MAX_ARGS),
    timeoutSeconds: z.number().int().min(1).max(MAX_EXEC_TIMEOUT_SECONDS, `timeoutSeconds must be at most ${MAX_EXEC_TIMEOUT_SECONDS}`).default(DEFAULT_EXEC_TIMEOUT_SECONDS),
  })
  .strict()

/** The answer of `POST .../services/{name}/exec`. */
export interface ServiceExecResult {
  container: string
  exitCode: number
  stdout: string
  stderr: string
  /** Set when stdout or stderr was cut to `MAX_EXEC_OUTPUT_BYTES`. */
  truncated?: boolean
}

/** The answer of `POST .../services/{name}/restart` (202: the containers are stopped; the reconciler starts them). */
export interface ServiceRestartResult {
  service: string
  containers: string[]
}
