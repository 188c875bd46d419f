/**
 * Operations on a running Service, beside its object routes, in the shape of Kubernetes' pod subresources:
 *   GET  /apis/svc.dpu.nvidia.com/v1alpha1/namespaces/{ns}/services/{name}/log      text/plain; ?follow=true streams
 *   POST /apis/svc.dpu.nvidia.com/v1alpha1/namespaces/{ns}/services/{name}/exec     {container?, command, timeoutSeconds?}
 *   POST /apis/svc.dpu.nvidia.com/v1alpha1/namespaces/{ns}/services/{name}/restart  202 {service, containers}
 * The Service must exist in the store (404 otherwise) and have a pod in a runtime backend (409 otherwise); the
 * operations themselves are the services reconciler's (`RestDeps.serviceOps`). A followed log holds a slot of
 * `LogFollowAdmission` until the client goes away.
 */
import { Hono, type Context } from 'hono'
import { stream } from 'hono/streaming'
import { jsonContent, problemResponses, type JsonObject, type OpenApiParameter } from '../../../api/openapi.js'
import { toFieldIssues } from '../../../api/resources/issues.js'
import {
  DEFAULT_EXEC_TIMEOUT_SECONDS,
  MAX_EXEC_OUTPUT_BYTES,
  MAX_EXEC_TIMEOUT_SECONDS,
  ServiceExecRequestSchema,
  ServiceLogQuerySchema,
  type ServiceExecResult,
  type ServiceRestartResult,
} from '../../../api/service-ops.js'
import type { ZodError } from 'zod'
import { parseJson } from '../body.js'
import { clientAddress } from '../client-address.js'
import type { RestDeps, ServiceOps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { ServicesUnavailableError, ValidationProblemError } from '../errors.js'
import { LogFollowAdmission } from '../log-limits.js'
import { readBodyText } from '../middleware/body-limit/index.js'
import { route } from '../route.js'
import { checkName } from './objects.js'

const SERVICE_API = { group: 'svc.dpu.nvidia.com', version: 'v1alpha1', kind: 'Service' } as const
const BASE = `/${SERVICE_API.group}/${SERVICE_API.version}/namespaces/:namespace/services/:name`
const tags = ['Service']
const query = (name: string, schema: JsonObject, description: string): OpenApiParameter => ({ name, in: 'query', required: false, description, schema })

function invalid(what: string, error: ZodError): ValidationProblemError {
  const issues = toFieldIssues(error)
  return new ValidationProblemError(`${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, issues)
}

/** Cuts `text` to `max` bytes of UTF-8. */
function bounded(text: string, max: number): { text: string; cut: boolean } {
  const bytes = Buffer.from(text, 'utf8')
  return bytes.length <= max ? { text, cut: false } : { text: bytes.subarray(0, max).toString('utf8'), cut: true }
}

export function serviceRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const follows = deps.logFollowAdmission ?? new LogFollowAdmission()

  /** `namespace/name` of a stored Service (404 when there is none), and the operations (409 without a runtime). */
  const target = (c: Context<AppEnv>): { key: string; ops: ServiceOps } => {
    const namespace = checkName(c.req.param('namespace') ?? '', 'metadata.namespace')
    const name = checkName(c.req.param('name') ?? '', 'metadata.name')
    deps.store.objects.require({ apiVersion: `${SERVICE_API.group}/${SERVICE_API.version}`, kind: SERVICE_API.kind, namespace, name })
    if (!deps.serviceOps) throw new ServicesUnavailableError(`${namespace}/${name}`)
    return { key: `${namespace}/${name}`, ops: deps.serviceOps }
  }

  route(
    app,
    {
      method: 'get',
      path: `${BASE}/log`,
      operation: {
        operationId: 'readServiceLog',
        tags,
        summary: "A container's output (dpuctl logs); with follow=true it streams until the client disconnects",
        parameters: [
          query('container', { type: 'string' }, 'The container (default: the first one)'),
          query(
            'follow',
            { type: 'string', enum: ['true', 'false'] },
            `Stream new output; at most ${follows.limits.maxFollows} follow streams in total, ${follows.limits.maxFollowsPerClient} per client`,
          ),
          query('tailLines', { type: 'integer', minimum: 0 }, 'Only the last N lines'),
          query('sinceSeconds', { type: 'integer', minimum: 1 }, 'Only output written in the last S seconds'),
          query('sinceTime', { type: 'string', format: 'date-time' }, 'Only output written at or after this RFC 3339 time'),
        ],
        responses: {
          '200': { description: 'The output, as the container wrote it', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...problemResponses('400', '401', '404', '409', '429', 'default'),
        },
      },
    },
    async (c) => {
      const parsed = ServiceLogQuerySchema.safeParse(c.req.query())
      if (!parsed.success) throw invalid('log', parsed.error)
      const q = parsed.data
      const { key, ops } = target(c)
      const since = q.sinceTime !== undefined ? new Date(q.sinceTime) : q.sinceSeconds !== undefined ? new Date(Date.now() - q.sinceSeconds * 1000) : undefined
      const release = q.follow ? follows.admit(clientAddress(c)) : () => undefined
      const ac = new AbortController()
      let log: Awaited<ReturnType<ServiceOps['logs']>>
      try {
        log = await ops.logs(key, q.container, { follow: q.follow ?? false, ...(q.tailLines !== undefined ? { tail: q.tailLines } : {}), ...(since ? { since } : {}), signal: ac.signal })
      } catch (err) {
        release()
        throw err
      }
      c.header('content-type', 'text/plain; charset=utf-8')
      c.header('x-content-type-options', 'nosniff')
      c.header('x-dpu-container', log.container)
      return stream(
        c,
        async (s) => {
          s.onAbort(() => ac.abort())
          try {
            for await (const chunk of log.stream) {
              if (s.aborted) break
              await s.write(chunk)
            }
          } finally {
            ac.abort()
            release()
          }
        },
        async (err, s) => {
          // The status line is sent: a failed read can only end the body, with a last line that says why.
          deps.log.warn({ service: key, err: err.message }, 'service log stream failed')
          await s.write(`\n[dpu-appliance: log stream ended: ${err.message}]\n`).catch(() => undefined)
        },
      )
    },
  )

  route(
    app,
    {
      method: 'post',
      path: `${BASE}/exec`,
      operation: {
        operationId: 'execService',
        tags,
        summary: 'Run a command in a running container of the service (dpuctl exec); non-interactive, output bounded',
        requestBody: {
          required: true,
          content: jsonContent({
            type: 'object',
            required: ['command'],
            additionalProperties: false,
            properties: {
              container: { type: 'string', description: 'The container (default: the first one)' },
              command: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'argv: the program and its arguments' },
              timeoutSeconds: { type: 'integer', minimum: 1, maximum: MAX_EXEC_TIMEOUT_SECONDS, default: DEFAULT_EXEC_TIMEOUT_SECONDS },
            },
          }),
        },
        responses: {
          '200': {
            description: `The command's exit code and output (stdout and stderr each cut to ${MAX_EXEC_OUTPUT_BYTES} bytes; truncated says so)`,
            content: jsonContent({
              type: 'object',
              required: ['container', 'exitCode', 'stdout', 'stderr'],
              properties: { container: { type: 'string' }, exitCode: { type: 'integer' }, stdout: { type: 'string' }, stderr: { type: 'string' }, truncated: { type: 'boolean' } },
            }),
          },
          ...problemResponses('400', '401', '404', '409', '413', 'default'),
        },
      },
    },
    async (c) => {
      const parsed = ServiceExecRequestSchema.safeParse(parseJson(await readBodyText(c)) ?? null)
      if (!parsed.success) throw invalid('exec', parsed.error)
      const { key, ops } = target(c)
      const r = await ops.exec(key, parsed.data.container, parsed.data.command, parsed.data.timeoutSeconds * 1000)
      const stdout = bounded(r.stdout, MAX_EXEC_OUTPUT_BYTES)
      const stderr = bounded(r.stderr, MAX_EXEC_OUTPUT_BYTES)
      const body: ServiceExecResult = { container: r.container, exitCode: r.exitCode, stdout: stdout.text, stderr: stderr.text, ...(stdout.cut || stderr.cut ? { truncated: true } : {}) }
      return c.json(body)
    },
  )

  route(
    app,
    {
      method: 'post',
      path: `${BASE}/restart`,
      operation: {
        operationId: 'restartService',
        tags,
        summary: 'Restart every container of the service in its sandbox (dpuctl restart): interfaces and ofports stay',
        responses: {
          '202': {
            description: 'The containers were stopped; the services pass starts them again (watch restartCount)',
            content: jsonContent({ type: 'object', required: ['service', 'containers'], properties: { service: { type: 'string' }, containers: { type: 'array', items: { type: 'string' } } } }),
          },
          ...problemResponses('400', '401', '404', '409', 'default'),
        },
      },
    },
    async (c) => {
      const { key, ops } = target(c)
      const body: ServiceRestartResult = { service: key, containers: await ops.restart(key) }
      return c.json(body, 202)
    },
  )
  return app
}
