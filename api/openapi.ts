/**
 * The OpenAPI 3.1 vocabulary of the appliance's REST API and everything in it that is generated from the
 * registry's zod schemas: per-kind component schemas, problem+json responses, shared parameters and the bearer
 * scheme. Request bodies use each schema's input form (what a client may send: `mtu` alias, optional namespace);
 * responses wrap the same spec with stored metadata and status.
 *
 * The operations are not written here: each is described where its route is registered (`appliance/rest`) and
 * handed to `buildOpenApi`, so this module knows what an object looks like and the REST layer knows which routes
 * serve it. Pure and zod-only: no HTTP framework.
 */
import { z } from 'zod'
import { ERROR_CODES } from './error-codes.js'
import { ObjectMetaSchema, ObjectStatusSchema } from './meta.js'
import type { KindInfo } from './resources/kind.js'
import { KINDS } from './resources/registry.js'

/** A JSON object of the document that this module does not model further (schemas, media types). */
export type JsonObject = Record<string, unknown>

/** OpenAPI 3.1 §4.8.23: in 3.1 a reference may carry only `summary` and `description` beside `$ref`. */
export interface OpenApiReference {
  $ref: string
  summary?: string
  description?: string
}

/** OpenAPI 3.1 §4.8.12, the subset we use. */
export interface OpenApiParameter {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  description?: string
  style?: 'form' | 'simple'
  explode?: boolean
  schema: JsonObject
}

export type OpenApiSecurityRequirement = Record<string, string[]>

/** OpenAPI 3.1 §4.8.10, the subset we use, plus `x-` extensions. */
export interface OpenApiOperation {
  operationId: string
  summary: string
  description?: string
  tags: readonly string[]
  parameters?: ReadonlyArray<OpenApiParameter | OpenApiReference>
  requestBody?: JsonObject
  /** Keys are status codes as strings ('200', '4XX') or 'default'. */
  responses: Record<string, JsonObject | OpenApiReference>
  /** `[]` marks an operation open; absent inherits the document's bearer requirement. */
  security?: OpenApiSecurityRequirement[]
  [extension: `x-${string}`]: unknown
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]
export type OpenApiPathItem = Partial<Record<HttpMethod, OpenApiOperation>>

export interface OpenApiTag {
  name: string
  description?: string
}

/** The bearer scheme every `/apis` route requires (`<data-dir>/token`). */
export const BEARER_SCHEME = 'bearerAuth'

export const schemaRef = (name: string): OpenApiReference => ({ $ref: `#/components/schemas/${name}` })
export const parameterRef = (name: SharedParameter): OpenApiReference => ({ $ref: `#/components/parameters/${name}` })
export const jsonContent = (schema: JsonObject | OpenApiReference): JsonObject => ({ 'application/json': { schema } })

/** The component names of one kind's schemas: as stored, as applied, and its list. */
export function kindSchemaNames(k: KindInfo): { object: string; apply: string; list: string } {
  return { object: k.kind, apply: `${k.kind}Apply`, list: `${k.kind}List` }
}

/** A zod schema as JSON Schema, in its input form (what a client may send); also read by `dpuctl explain`. */
export function jsonSchema(schema: z.ZodType): JsonObject {
  // The dialect is declared once for the document (`jsonSchemaDialect`), not per schema.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject
  return rest
}

/** RFC 9457 problem details, plus our `code`, field-level `errors` and the `object` a batch failed on. */
function problemSchema(): JsonObject {
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
      errors: { type: 'array', items: schemaRef('FieldIssue') },
      object: {
        type: 'object',
        description: 'The object of a batch the problem concerns',
        properties: {
          index: { type: 'integer' },
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          namespace: { type: 'string' },
          name: { type: 'string' },
        },
      },
    },
  }
}

const ListMetaSchema: JsonObject = {
  type: 'object',
  required: ['resourceVersion'],
  properties: { resourceVersion: { type: 'string', description: 'The store revision the list was read at; watch from it' } },
}

function kindSchemas(k: KindInfo): Record<string, JsonObject> {
  const names = kindSchemaNames(k)
  const apply = jsonSchema(k.schema)
  const spec = (apply.properties as Record<string, JsonObject>).spec ?? {}
  return {
    [names.apply]: { ...apply, description: `${k.kind} as a client sends it (apply).` },
    [names.object]: {
      type: 'object',
      description: `${k.kind} as stored (${k.level} level).`,
      required: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
      properties: {
        apiVersion: { type: 'string', const: k.apiVersion },
        kind: { type: 'string', const: k.kind },
        metadata: schemaRef('ObjectMeta'),
        spec,
        status: schemaRef('ObjectStatus'),
      },
    },
    // `present.ts` answers lists as Kubernetes' untyped `v1` List envelope, with the store's resourceVersion.
    [names.list]: {
      type: 'object',
      required: ['apiVersion', 'kind', 'metadata', 'items'],
      properties: {
        apiVersion: { type: 'string', const: 'v1' },
        kind: { type: 'string', const: names.list },
        metadata: ListMetaSchema,
        items: { type: 'array', items: schemaRef(names.object) },
      },
    },
  }
}

const PROBLEM_RESPONSES = {
  '400': 'Invalid request or document',
  '401': 'Missing or invalid bearer token',
  '404': 'Not found',
  '409': 'Conflict (generation, or the object is owned by the hub)',
  '410': 'The resourceVersion to watch from is older than the store keeps',
  '413': 'Request body too large',
  '415': 'Unsupported media type',
  '422': 'The request is well-formed but cannot be carried out on this node',
  '429': 'Too many open streams (watches, log follows); retry later',
  '503': 'A part the route needs (store, Open vSwitch) is not available',
  default: 'Error',
} as const
export type ProblemStatus = keyof typeof PROBLEM_RESPONSES

/** Responses that are RFC 9457 problem documents, by status, as references to the shared responses. */
export function problemResponses(...statuses: ProblemStatus[]): Record<string, OpenApiReference> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/${s}` }]))
}

const SHARED_PARAMETERS = {
  namespace: { name: 'namespace', in: 'path', required: true, description: 'Object namespace', schema: { type: 'string' } },
  name: { name: 'name', in: 'path', required: true, description: 'Object name', schema: { type: 'string' } },
  labelSelector: {
    name: 'labelSelector',
    in: 'query',
    required: false,
    description: 'Kubernetes label selector, e.g. `app=x,tier!=db`',
    schema: { type: 'string' },
  },
  watch: {
    name: 'watch',
    in: 'query',
    required: false,
    description: 'Stream changes as server-sent events (`text/event-stream`) instead of answering a list',
    schema: { type: 'string', enum: ['true', '1', 'false', '0'] },
  },
  resourceVersion: {
    name: 'resourceVersion',
    in: 'query',
    required: false,
    description: 'With `watch`: resume after this revision (as `Last-Event-ID` does); 410 when it is older than the store keeps',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
} as const satisfies Record<string, OpenApiParameter>
export type SharedParameter = keyof typeof SHARED_PARAMETERS

/** Whether `name` is a shared path or query parameter, so a route's path parameters can refer to it. */
export function isSharedParameter(name: string): name is SharedParameter {
  return Object.hasOwn(SHARED_PARAMETERS, name)
}

/** The component schemas: per-kind (stored, apply, list), object metadata and status, problems. */
export function buildComponentSchemas(): Record<string, JsonObject> {
  const schemas: Record<string, JsonObject> = {
    ObjectMeta: jsonSchema(ObjectMetaSchema),
    ObjectStatus: jsonSchema(ObjectStatusSchema),
    FieldIssue: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    Problem: problemSchema(),
  }
  for (const k of KINDS) Object.assign(schemas, kindSchemas(k))
  return schemas
}

export interface OpenApiDocumentParts {
  /** Path templates (`{name}`) to their operations, as the REST layer serves them. */
  paths: Record<string, OpenApiPathItem>
  /** Every tag the operations use, in display order. */
  tags: readonly OpenApiTag[]
  title?: string
  version?: string
}

/**
 * The OpenAPI 3.1 document: the operations given, with the components they refer to (per-kind schemas, problem
 * responses, shared parameters, bearer auth; bearer is the default requirement). Pure and deterministic.
 */
export function buildOpenApi(parts: OpenApiDocumentParts): JsonObject {
  const responses = Object.fromEntries(Object.entries(PROBLEM_RESPONSES).map(([s, description]) => [s, { description, content: { 'application/problem+json': { schema: schemaRef('Problem') } } }]))
  return {
    openapi: '3.1.0',
    info: {
      title: parts.title ?? 'dpu-appliance',
      version: parts.version ?? '0.1.0',
      description:
        'Local REST API of a dpu-appliance: DPF-compatible objects, switch state, probes and metrics. Every `/apis` route needs ' +
        "`Authorization: Bearer <token>` (the appliance's `<data-dir>/token`); errors are RFC 9457 `application/problem+json`.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // OpenAPI's own dialect (2020-12 plus its vocabulary): our zod-made schemas are plain 2020-12, which it
    // includes, and explorers (Swagger UI) support no other value.
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ [BEARER_SCHEME]: [] }],
    tags: parts.tags,
    paths: parts.paths,
    components: {
      schemas: buildComponentSchemas(),
      responses,
      parameters: SHARED_PARAMETERS,
      securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: "The appliance's token (`<data-dir>/token`)" } },
    },
  }
}
