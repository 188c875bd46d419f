/**
 * Appliance routes that are not one kind's (group `appliance`: no dot, so no API group can collide):
 *   GET  /apis                              discovery: every kind and its names
 *   POST /apis/appliance/v1/apply           apply objects of any kinds (List, array or YAML stream), all-or-nothing;
 *                                           ?wait=installed[&timeoutMs=N]: answer after the chain flows are installed
 *   POST /apis/appliance/v1/delete          delete the objects named in the body, all-or-nothing (?ignoreNotFound=true)
 *   GET  /apis/appliance/v1/events          event log, newest first (?kind=&namespace=&name=&limit=)
 */
import { Hono } from 'hono'
import { ApplianceError } from '../../../api/errors.js'
import { DEFAULT_NAMESPACE, NameSchema, type ObjectRef } from '../../../api/meta.js'
import { jsonContent, problemResponses, type JsonObject, type OpenApiParameter } from '../../../api/openapi.js'
import { KINDS, kindFor } from '../../../api/resources/registry.js'
import { applyLocalObjects, deleteLocalObjects } from '../../desired/index.js'
import { parseItems, readDocuments } from '../body.js'
import { isConsumedConfigMap, isCoreV1 } from '../../../api/resources/pod-manifest.js'
import { SVC_API_VERSION } from '../../../api/resources/common.js'
import type { RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { ApplyResultSchema, applyBody, DeleteResultSchema, ObjectRefSchema } from '../present.js'
import { route } from '../route.js'
import { isRecord } from '../../../api/is-record.js'

export const APPLIANCE_GROUP_PATH = '/appliance/v1'

const APIResourceListSchema: JsonObject = {
  type: 'object',
  required: ['kind', 'apiVersion', 'resources'],
  properties: {
    kind: { type: 'string', const: 'APIResourceList' },
    apiVersion: { type: 'string', const: 'v1' },
    resources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['group', 'version', 'kind', 'name', 'singularName', 'shortNames', 'namespaced', 'level', 'verbs'],
        properties: {
          group: { type: 'string' },
          version: { type: 'string' },
          kind: { type: 'string' },
          name: { type: 'string', description: 'The plural used in paths' },
          singularName: { type: 'string' },
          shortNames: { type: 'array', items: { type: 'string' } },
          namespaced: { type: 'boolean' },
          level: { type: 'string', enum: ['fleet', 'node'] },
          verbs: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
}
const EventListSchema: JsonObject = {
  type: 'object',
  required: ['apiVersion', 'kind', 'items'],
  properties: {
    apiVersion: { type: 'string', const: 'appliance/v1' },
    kind: { type: 'string', const: 'EventList' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'time', 'type', 'reason', 'message', 'object'],
        properties: {
          id: { type: 'integer' },
          time: { type: 'string', format: 'date-time' },
          type: { type: 'string', enum: ['Normal', 'Warning'] },
          reason: { type: 'string' },
          message: { type: 'string' },
          object: { ...ObjectRefSchema, properties: { ...(ObjectRefSchema.properties as JsonObject), uid: { type: 'string' } } },
        },
      },
    },
  },
}
const listOfObjects: JsonObject = {
  type: 'object',
  required: ['items'],
  properties: { kind: { type: 'string', enum: ['List'] }, apiVersion: { type: 'string' }, items: { type: 'array', items: { type: 'object' } } },
}
const documentsBody: JsonObject = {
  required: true,
  description: 'One object, an array, a List with items (JSON), or a multi-document YAML stream (application/yaml).',
  content: {
    'application/json': { schema: { oneOf: [listOfObjects, { type: 'array', items: { type: 'object' } }, { type: 'object', not: { required: ['items'] } }] } },
    'application/yaml': { schema: { type: 'string' } },
  },
}
const query = (name: string, schema: JsonObject, description: string): OpenApiParameter => ({ name, in: 'query', required: false, description, schema })

/** A delete body only needs identity: apiVersion, kind, metadata.name and namespace. */
function refOfDocument(raw: unknown, index: number): ObjectRef {
  const fail = (path: string, message: string, context: Record<string, unknown> = {}) =>
    new ApplianceError(path === 'kind' ? 'api.unknown-kind' : path === 'apiVersion' ? 'api.wrong-api-version' : 'api.validation', `items[${index}]: ${path}: ${message}`, {
      context: { index, ...context },
      issues: [{ path, message }],
    })
  if (!isRecord(raw)) throw fail('', 'expected an object')
  const kind = typeof raw.kind === 'string' ? raw.kind : ''
  const apiVersion = typeof raw.apiVersion === 'string' ? raw.apiVersion : ''
  const meta = isRecord(raw.metadata) ? raw.metadata : {}
  const name = typeof meta.name === 'string' ? meta.name : ''
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : DEFAULT_NAMESPACE
  const info = kindFor(apiVersion, kind)
  if (!info) {
    const same = KINDS.find((k) => k.kind === kind)
    if (same) throw fail('apiVersion', `must be ${same.apiVersion} for ${kind}`, { kind, name })
    throw fail('kind', `unknown kind ${kind || '(none)'}`, { kind, name })
  }
  for (const [path, value] of [
    ['metadata.name', name],
    ['metadata.namespace', namespace],
  ] as const) {
    const r = NameSchema.safeParse(value)
    if (!r.success) throw fail(path, r.error.issues[0]?.message ?? 'invalid', { kind, name })
  }
  return { apiVersion: info.apiVersion, kind: info.kind, namespace, name }
}

export function batchRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  route(
    app,
    {
      method: 'get',
      path: '/',
      operation: {
        operationId: 'discoverKinds',
        tags: ['appliance'],
        summary: 'Every kind served, with its plural, singular and short names',
        responses: { '200': { description: 'APIResourceList', content: jsonContent(APIResourceListSchema) }, ...problemResponses('401') },
      },
    },
    (c) =>
      c.json({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        resources: KINDS.map((k) => ({
          group: k.group,
          version: k.version,
          kind: k.kind,
          name: k.plural,
          singularName: k.singular,
          shortNames: k.shortNames,
          namespaced: true,
          level: k.level,
          verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
        })),
      }),
  )

  route(
    app,
    {
      method: 'post',
      path: `${APPLIANCE_GROUP_PATH}/apply`,
      operation: {
        operationId: 'applyObjects',
        tags: ['appliance'],
        summary: 'Apply objects of any kinds in one transaction (all-or-nothing); fleet interfaces and chains are rendered for this node',
        parameters: [
          query('wait', { type: 'string', enum: ['installed'] }, 'Answer once the chain flows of this write are installed (a barrier reply), or the timeout passed'),
          query('timeoutMs', { type: 'integer', minimum: 1, maximum: 60000, default: 10000 }, 'With wait=installed: how long to wait'),
        ],
        requestBody: documentsBody,
        responses: { '200': { description: 'What happened to each object', content: jsonContent(ApplyResultSchema) }, ...problemResponses('400', '401', '404', '409', '413', '415', '422', 'default') },
      },
    },
    async (c) => {
      const objs = parseItems(await readDocuments(c))
      const outcome = applyLocalObjects(deps.store, objs, deps.node)
      const resourceVersion = deps.store.resourceVersion()
      // ?wait=installed answers once the chains loop confirmed the flows of this write with a barrier reply.
      if (c.req.query('wait') === 'installed') {
        const timeoutMs = Math.min(60_000, Math.max(1, Number(c.req.query('timeoutMs') ?? 10_000) || 10_000))
        const installed = deps.waitInstalled ? await deps.waitInstalled(resourceVersion, timeoutMs) : false
        return c.json({ ...applyBody(outcome, resourceVersion), flows: { installed } })
      }
      return c.json(applyBody(outcome, resourceVersion))
    },
  )

  route(
    app,
    {
      method: 'post',
      path: `${APPLIANCE_GROUP_PATH}/delete`,
      operation: {
        operationId: 'deleteObjects',
        tags: ['appliance'],
        summary: 'Delete the objects named in the body (apiVersion, kind, metadata) in one transaction, with what was rendered from them',
        parameters: [query('ignoreNotFound', { type: 'boolean', default: false }, 'An object that does not exist is reported, not an error')],
        requestBody: documentsBody,
        responses: { '200': { description: 'What happened to each object', content: jsonContent(DeleteResultSchema) }, ...problemResponses('400', '401', '404', '409', '413', '415', 'default') },
      },
    },
    async (c) => {
      const docs = await readDocuments(c)
      if (docs.length === 0) throw new ApplianceError('api.validation', 'the request body names no object', { issues: [{ path: '', message: 'expected at least one object' }] })
      // A v1 Pod names the Service it became; the v1 ConfigMaps it mounts were inlined into it, so name nothing.
      const refs = docs.flatMap((raw, i) => (isConsumedConfigMap(raw, docs) ? [] : [refOfDocument(isCoreV1(raw, 'Pod') ? { ...raw, apiVersion: SVC_API_VERSION, kind: 'Service' } : raw, i)]))
      const outcome = deleteLocalObjects(deps.store, refs, { missingOk: c.req.query('ignoreNotFound') === 'true' })
      return c.json({
        apiVersion: 'appliance/v1',
        kind: 'DeleteResult',
        metadata: { resourceVersion: String(deps.store.resourceVersion()) },
        items: [
          ...outcome.results.map((r) => ({ action: r.action, source: 'input', ref: r.ref })),
          ...outcome.pruned.filter((r) => r.action === 'deleted').map((r) => ({ action: r.action, source: 'pruned', ref: r.ref })),
        ],
      })
    },
  )

  route(
    app,
    {
      method: 'get',
      path: `${APPLIANCE_GROUP_PATH}/events`,
      operation: {
        operationId: 'listEvents',
        tags: ['appliance'],
        summary: 'The event log, newest first',
        parameters: [
          query('kind', { type: 'string' }, 'Only events of objects of this kind'),
          query('namespace', { type: 'string' }, 'Only events of objects in this namespace'),
          query('name', { type: 'string' }, 'Only events of objects with this name'),
          query('limit', { type: 'integer', minimum: 0, maximum: 99999, default: 100 }, 'At most this many events'),
        ],
        responses: { '200': { description: 'EventList', content: jsonContent(EventListSchema) }, ...problemResponses('400', '401') },
      },
    },
    (c) => {
      const limitText = c.req.query('limit') ?? '100'
      if (!/^\d{1,5}$/.test(limitText)) {
        throw new ApplianceError('api.validation', `limit must be an integer, got "${limitText}"`, { issues: [{ path: 'limit', message: 'expected an integer 0..99999' }] })
      }
      const q = { kind: c.req.query('kind'), namespace: c.req.query('namespace'), name: c.req.query('name'), limit: Number(limitText) }
      return c.json({ apiVersion: 'appliance/v1', kind: 'EventList', items: deps.store.events.list(q) })
    },
  )

  return app
}
