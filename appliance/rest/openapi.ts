/**
 * The appliance-only routes (discovery, batch apply/delete, events, the API description itself) added to the
 * per-kind OpenAPI document that `api/openapi.ts` generates from the zod schemas, so `/openapi.json`
 * describes every route `createApp` serves.
 */
import { buildOpenApi } from '../../api/openapi.js'

type Json = Record<string, unknown>

const problems = (...codes: string[]): Json => Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/responses/${c}` }]))
const anyJson = (description: string, schema: Json = { type: 'object' }): Json => ({ description, content: { 'application/json': { schema } } })
const listOfObjects: Json = {
  type: 'object',
  required: ['items'],
  properties: { kind: { type: 'string', enum: ['List'] }, apiVersion: { type: 'string' }, items: { type: 'array', items: { type: 'object' } } },
}
const documentsBody: Json = {
  required: true,
  description: 'One object, an array, a List with items (JSON), or a multi-document YAML stream (application/yaml).',
  content: { 'application/json': { schema: { oneOf: [listOfObjects, { type: 'array', items: { type: 'object' } }, { type: 'object' }] } }, 'application/yaml': { schema: { type: 'string' } } },
}

export function applianceRoutePaths(): Record<string, Json> {
  return {
    '/apis': {
      get: { operationId: 'discoverKinds', tags: ['appliance'], summary: 'Every kind served, with its plural, singular and short names', responses: { 200: anyJson('APIResourceList'), ...problems('401') } },
    },
    '/apis/appliance/v1/apply': {
      post: {
        operationId: 'applyObjects',
        tags: ['appliance'],
        summary: 'Apply objects of any kinds in one transaction (all-or-nothing); fleet interfaces/chains are rendered for this node',
        requestBody: documentsBody,
        responses: { 200: anyJson('ApplyResult: items[{action, source: input|rendered|pruned, object}]'), ...problems('400', '401', '404', '409', '415', 'default') },
      },
    },
    '/apis/appliance/v1/delete': {
      post: {
        operationId: 'deleteObjects',
        tags: ['appliance'],
        summary: 'Delete the objects named in the body (apiVersion, kind, metadata) in one transaction, with what was rendered from them',
        parameters: [{ name: 'ignoreNotFound', in: 'query', schema: { type: 'boolean' } }],
        requestBody: documentsBody,
        responses: { 200: anyJson('DeleteResult: items[{action, source, ref}]'), ...problems('400', '401', '404', '409', 'default') },
      },
    },
    '/apis/appliance/v1/events': {
      get: {
        operationId: 'listEvents',
        tags: ['appliance'],
        summary: 'The event log, newest first',
        parameters: [
          ...['kind', 'namespace', 'name'].map((n): Json => ({ name: n, in: 'query', schema: { type: 'string' } })),
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, default: 100 } },
        ],
        responses: { 200: anyJson('EventList'), ...problems('400', '401') },
      },
    },
    '/version': {
      get: {
        operationId: 'getVersion',
        tags: ['appliance'],
        security: [],
        summary: 'The build of this appliance, as Kubernetes version.Info (goVersion is the Node.js version)',
        responses: {
          200: anyJson('version.Info', {
            type: 'object',
            properties: {
              major: { type: 'string' },
              minor: { type: 'string' },
              gitVersion: { type: 'string' },
              gitCommit: { type: 'string' },
              gitTreeState: { type: 'string' },
              buildDate: { type: 'string' },
              goVersion: { type: 'string' },
              compiler: { type: 'string' },
              platform: { type: 'string' },
            },
          }),
        },
      },
    },
    '/openapi.json': { get: { operationId: 'openApi', tags: ['appliance'], security: [], summary: 'This document', responses: { 200: anyJson('OpenAPI 3.1') } } },
    '/docs': { get: { operationId: 'docs', tags: ['appliance'], security: [], summary: 'A page that renders this document', responses: { 200: { description: 'HTML' } } } },
  }
}

/** The full OpenAPI 3.1 document of the appliance's REST API. */
export function buildApplianceOpenApi(): Json {
  const doc = buildOpenApi()
  return { ...doc, paths: { ...(doc.paths as Record<string, Json>), ...applianceRoutePaths() } }
}
