/**
 * The OpenAPI 3.1 description of the appliance's REST API, generated from the registry's zod schemas so the
 * document cannot drift from what the server validates. Request bodies use each schema's input form (what a
 * client may send: `mtu` alias, optional namespace); responses wrap the same spec with stored metadata and status.
 * Paths follow Kubernetes: `/apis/{group}/{version}/namespaces/{namespace}/{plural}[/{name}[/status]]`.
 */
import { z } from 'zod'
import { ERROR_CODES } from './error-codes.js'
import { ObjectMetaSchema, ObjectStatusSchema } from './meta.js'
import type { KindInfo } from './resources/kind.js'
import { KINDS } from './resources/registry.js'

type Json = Record<string, unknown>

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: Json): Json => ({ 'application/json': { schema } })

/** A zod schema as JSON Schema, in its input form (what a client may send); also read by `dpuctl explain`. */
export function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json
  return rest
}

/** RFC 9457 problem details, plus our `code` and field-level `errors`. */
function problemSchema(): Json {
  return {
    type: 'object',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string', format: 'uri-reference', description: 'urn:dpu-appliance:problem:<code>' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 100, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string', description: 'The request id' },
      code: { type: 'string', enum: Object.keys(ERROR_CODES) },
      errors: { type: 'array', items: ref('FieldIssue') },
    },
  }
}

function kindSchemas(k: KindInfo): Record<string, Json> {
  const apply = jsonSchema(k.schema)
  const spec = (apply.properties as Record<string, Json>).spec ?? {}
  return {
    [`${k.kind}Apply`]: { ...apply, description: `${k.kind} as a client sends it (apply).` },
    [k.kind]: {
      type: 'object',
      description: `${k.kind} as stored (${k.level} level).`,
      required: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
      properties: {
        apiVersion: { type: 'string', const: k.apiVersion },
        kind: { type: 'string', const: k.kind },
        metadata: ref('ObjectMeta'),
        spec,
        status: ref('ObjectStatus'),
      },
    },
    [`${k.kind}List`]: {
      type: 'object',
      required: ['apiVersion', 'kind', 'items'],
      properties: {
        apiVersion: { type: 'string', const: k.apiVersion },
        kind: { type: 'string', const: `${k.kind}List` },
        items: { type: 'array', items: ref(k.kind) },
      },
    },
  }
}

const problemResponse = (status: string): Json => ({ $ref: `#/components/responses/${status}` })
const errorsFor = (...statuses: string[]): Json => Object.fromEntries(statuses.map((s) => [s, problemResponse(s)]))

function kindPaths(k: KindInfo): Record<string, Json> {
  const base = `/apis/${k.group}/${k.version}`
  const collection = `${base}/namespaces/{namespace}/${k.plural}`
  const item = `${collection}/{name}`
  const tags = [k.kind]
  const gvk = { 'x-kubernetes-group-version-kind': { group: k.group, version: k.version, kind: k.kind }, 'x-dpu-level': k.level }
  const ok = (schema: string): Json => ({ description: 'OK', content: json(ref(schema)) })
  const applyBody = { required: true, content: json(ref(`${k.kind}Apply`)) }
  const applied = { '200': ok(k.kind), '201': { description: 'Created', content: json(ref(k.kind)) } }
  const params = (...names: string[]): Json[] => names.map((n) => ({ $ref: `#/components/parameters/${n}` }))
  return {
    [collection]: {
      parameters: params('namespace'),
      get: { operationId: `list${k.kind}`, tags, ...gvk, parameters: params('labelSelector'), responses: { '200': ok(`${k.kind}List`), ...errorsFor('400', '401', 'default') } },
      post: { operationId: `apply${k.kind}`, tags, ...gvk, requestBody: applyBody, responses: { ...applied, ...errorsFor('400', '401', '409', '415', 'default') } },
    },
    [item]: {
      parameters: params('namespace', 'name'),
      get: { operationId: `read${k.kind}`, tags, ...gvk, responses: { '200': ok(k.kind), ...errorsFor('401', '404', 'default') } },
      put: { operationId: `replace${k.kind}`, tags, ...gvk, requestBody: applyBody, responses: { ...applied, ...errorsFor('400', '401', '409', '415', 'default') } },
      delete: { operationId: `delete${k.kind}`, tags, ...gvk, responses: { '200': ok(k.kind), ...errorsFor('401', '404', '409', 'default') } },
    },
    [`${item}/status`]: {
      parameters: params('namespace', 'name'),
      get: { operationId: `read${k.kind}Status`, tags, ...gvk, responses: { '200': ok(k.kind), ...errorsFor('401', '404', 'default') } },
    },
    [`${base}/${k.plural}`]: {
      get: { operationId: `list${k.kind}ForAllNamespaces`, tags, ...gvk, parameters: params('labelSelector'), responses: { '200': ok(`${k.kind}List`), ...errorsFor('400', '401', 'default') } },
    },
  }
}

function probePaths(): Record<string, Json> {
  const text = (description: string): Json => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } })
  return {
    '/healthz': { get: { operationId: 'healthz', tags: ['probes'], security: [], responses: { '200': text('The process is alive') } } },
    '/readyz': {
      get: { operationId: 'readyz', tags: ['probes'], security: [], responses: { '200': text('Ready to serve'), '503': problemResponse('503') } },
    },
    '/metrics': {
      // Unauthenticated like the probes, so a Prometheus scraper needs no appliance token.
      get: { operationId: 'metrics', tags: ['probes'], security: [], responses: { '200': text('Prometheus text exposition format 0.0.4') } },
    },
  }
}

const STATUS_TEXT: Record<string, string> = {
  '400': 'Invalid request or document',
  '401': 'Missing or invalid bearer token',
  '404': 'Not found',
  '409': 'Conflict (generation, or the object is owned by the hub)',
  '415': 'Unsupported media type',
  '503': 'Not ready',
  default: 'Error',
}

/**
 * The OpenAPI 3.1 document of the REST API: per-kind component schemas and paths, probes, bearer auth and
 * problem+json errors. Pure and deterministic (same registry, same document).
 */
export function buildOpenApi(options: { title?: string; version?: string } = {}): Record<string, unknown> {
  const schemas: Record<string, Json> = {
    ObjectMeta: jsonSchema(ObjectMetaSchema),
    ObjectStatus: jsonSchema(ObjectStatusSchema),
    FieldIssue: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    Problem: problemSchema(),
  }
  const paths: Record<string, Json> = {}
  for (const k of KINDS) {
    Object.assign(schemas, kindSchemas(k))
    Object.assign(paths, kindPaths(k))
  }
  Object.assign(paths, probePaths())
  const responses = Object.fromEntries(
    Object.entries(STATUS_TEXT).map(([s, description]) => [s, { description, content: { 'application/problem+json': { schema: ref('Problem') } } }]),
  )
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'dpu-appliance',
      version: options.version ?? '0.1.0',
      description: 'Local REST API of a dpu-appliance: DPF-compatible objects, probes and metrics.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearerAuth: [] }],
    tags: [...KINDS.map((k) => ({ name: k.kind, description: `${k.apiVersion} ${k.kind} (${k.level})` })), { name: 'probes' }],
    paths,
    components: {
      schemas,
      responses,
      parameters: {
        namespace: { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
        name: { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        labelSelector: {
          name: 'labelSelector',
          in: 'query',
          required: false,
          description: 'Kubernetes label selector, e.g. `app=x,tier!=db`',
          schema: { type: 'string' },
        },
      },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    },
  }
}
