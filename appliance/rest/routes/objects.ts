/**
 * Kubernetes-style object routes, registered for each kind of the registry at its own paths (as the Kubernetes
 * API server does), so each route is described with its kind's schemas:
 *   GET    /apis/{group}/{version}/{plural}                                 list (all namespaces), ?watch=true
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}                 list, ?labelSelector=, ?watch=true
 *   POST   /apis/{group}/{version}/namespaces/{ns}/{plural}                 apply one object or a List of this kind
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          get
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status   get (status subresource)
 *   PUT    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          apply (create or update)
 *   DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          delete
 * A path of that shape whose kind is not served answers why (`unservedKindError`, from the app's not-found handler).
 */
import { Hono, type Context } from 'hono'
import { ApplianceError } from '../../../api/errors.js'
import { NameSchema, type ObjectRef } from '../../../api/meta.js'
import { kindSchemaNames, parameterRef, problemResponses, schemaRef, type JsonObject } from '../../../api/openapi.js'
import type { KindInfo } from '../../../api/resources/kind.js'
import { KINDS, kindByPath } from '../../../api/resources/registry.js'
import { applyLocalObjects, deleteLocalObjects } from '../../desired/index.js'
import { matchesLabelSelector } from '../../../api/resources/selector-match.js'
import { parseLabelSelector } from '../../store/index.js'
import { parseItems, readDocuments } from '../body.js'
import type { RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { applyBody, ApplyResultSchema, listBody } from '../present.js'
import { route, type RouteSpec } from '../route.js'
import { clientAddress } from '../client-address.js'
import { watchResponse } from '../watch-stream.js'
import { WatchAdmission } from '../watch-limits.js'

/**
 * Why an `/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]` path has no route: its kind is
 * served at another version, or not at all. Undefined for other paths and for kinds that are served.
 */
export function unservedKindError(path: string): ApplianceError | undefined {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/[^/]+\/)?([^/]+)(?:\/[^/]+(?:\/status)?)?$/.exec(path)
  if (!m) return undefined
  const [, group = '', version = '', plural = ''] = m
  if (kindByPath(group, version, plural)) return undefined
  const other = KINDS.find((k) => k.group === group && k.plural === plural)
  if (other) {
    return new ApplianceError('api.wrong-api-version', `${other.kind} is served at ${other.apiVersion}, not ${group}/${version}`, {
      context: { apiVersion: `${group}/${version}`, kind: other.kind },
      issues: [{ path: 'apiVersion', message: `must be ${other.apiVersion}` }],
    })
  }
  return new ApplianceError('api.unknown-kind', `no kind is served at /apis/${group}/${version}/${plural}`, {
    context: { group, version, plural },
    issues: [{ path: 'kind', message: `unknown resource ${plural}.${group}/${version}` }],
  })
}

export function checkName(value: string, field: 'metadata.name' | 'metadata.namespace'): string {
  const r = NameSchema.safeParse(value)
  if (!r.success) {
    throw new ApplianceError('api.validation', `${field} "${value}" is not valid: ${r.error.issues[0]?.message ?? 'invalid'}`, {
      issues: [{ path: field, message: r.error.issues[0]?.message ?? 'invalid' }],
    })
  }
  return value
}

function refFrom(c: Context<AppEnv>, info: KindInfo): ObjectRef {
  return {
    apiVersion: info.apiVersion,
    kind: info.kind,
    namespace: checkName(c.req.param('namespace') ?? '', 'metadata.namespace'),
    name: checkName(c.req.param('name') ?? '', 'metadata.name'),
  }
}

type Operation = RouteSpec<string>['operation']

/** The seven operations of one kind, named as the Kubernetes API names them (listX, readXStatus, ...). */
function kindOperations(k: KindInfo): Record<'list' | 'listAll' | 'apply' | 'read' | 'readStatus' | 'replace' | 'delete', Operation> {
  const names = kindSchemaNames(k)
  const tags = [k.kind]
  const gvk = { 'x-kubernetes-group-version-kind': { group: k.group, version: k.version, kind: k.kind }, 'x-dpu-level': k.level }
  const object = (description: string): JsonObject => ({ description, content: { 'application/json': { schema: schemaRef(names.object) } } })
  const body: JsonObject = {
    required: true,
    description: 'JSON or YAML',
    content: { 'application/json': { schema: schemaRef(names.apply) }, 'application/yaml': { schema: schemaRef(names.apply) } },
  }
  const applied = { '200': object('Updated (or unchanged)'), '201': object('Created') }
  const listed = {
    '200': {
      description: 'The list; with ?watch=true a stream of server-sent events instead',
      content: {
        'application/json': { schema: schemaRef(names.list) },
        'text/event-stream': {
          schema: { type: 'string', description: `event: ADDED|MODIFIED|DELETED, id: the resourceVersion, data: {"type", "object": ${k.kind}}` },
        },
      },
    },
    ...problemResponses('400', '401', '410', 'default'),
  }
  const listParameters = [parameterRef('labelSelector'), parameterRef('watch'), parameterRef('resourceVersion')]
  return {
    list: { operationId: `list${k.kind}`, tags, ...gvk, summary: `List or watch ${k.kind} objects in a namespace`, parameters: listParameters, responses: listed },
    listAll: { operationId: `list${k.kind}ForAllNamespaces`, tags, ...gvk, summary: `List or watch ${k.kind} objects in all namespaces`, parameters: listParameters, responses: listed },
    apply: {
      operationId: `apply${k.kind}`,
      tags,
      ...gvk,
      summary: `Apply one ${k.kind} or a List of them`,
      requestBody: body,
      responses: {
        '200': {
          description: 'The object (one in, nothing rendered), or what happened to each',
          content: { 'application/json': { schema: { anyOf: [schemaRef(names.object), ApplyResultSchema] } } },
        },
        '201': applied['201'],
        ...problemResponses('400', '401', '409', '413', '415', 'default'),
      },
    },
    read: { operationId: `read${k.kind}`, tags, ...gvk, summary: `Read a ${k.kind}`, responses: { '200': object('OK'), ...problemResponses('400', '401', '404', 'default') } },
    readStatus: {
      operationId: `read${k.kind}Status`,
      tags,
      ...gvk,
      summary: `Read the status of a ${k.kind}`,
      responses: {
        '200': {
          description: 'The object without its spec',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['apiVersion', 'kind', 'metadata', 'status'],
                properties: { apiVersion: { type: 'string', const: k.apiVersion }, kind: { type: 'string', const: k.kind }, metadata: schemaRef('ObjectMeta'), status: schemaRef('ObjectStatus') },
              },
            },
          },
        },
        ...problemResponses('400', '401', '404', 'default'),
      },
    },
    replace: {
      operationId: `replace${k.kind}`,
      tags,
      ...gvk,
      summary: `Create or update a ${k.kind} (apply)`,
      requestBody: body,
      responses: { ...applied, ...problemResponses('400', '401', '409', '413', '415', 'default') },
    },
    delete: {
      operationId: `delete${k.kind}`,
      tags,
      ...gvk,
      summary: `Delete a ${k.kind}`,
      responses: { '200': object('The object as it was'), ...problemResponses('400', '401', '404', '409', 'default') },
    },
  }
}

export function objectRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const heartbeatMs = deps.watchHeartbeatMs ?? 15_000
  const admission = deps.watchAdmission ?? new WatchAdmission()

  const list = (c: Context<AppEnv>, info: KindInfo, namespace: string | undefined) => {
    if (namespace !== undefined) checkName(namespace, 'metadata.namespace')
    const selector = parseLabelSelector(c.req.query('labelSelector') ?? '')
    const watch = c.req.query('watch')
    if (watch === 'true' || watch === '1') {
      return watchResponse(
        c,
        deps.store,
        { apiVersion: info.apiVersion, kind: info.kind, namespace, matches: (o) => matchesLabelSelector(selector, o.metadata.labels ?? {}) },
        { heartbeatMs, admission, client: clientAddress(c) },
      )
    }
    const items = deps.store.objects.list({ apiVersion: info.apiVersion, kind: info.kind, namespace, labelSelector: selector })
    return c.json(listBody(info.kind, deps.store.resourceVersion(), items))
  }

  for (const info of KINDS) {
    const ops = kindOperations(info)
    const collection = `/${info.group}/${info.version}/namespaces/:namespace/${info.plural}`
    const item = `${collection}/:name`

    route(app, { method: 'get', path: collection, operation: ops.list }, (c) => list(c, info, c.req.param('namespace') ?? ''))
    route(app, { method: 'get', path: `/${info.group}/${info.version}/${info.plural}`, operation: ops.listAll }, (c) => list(c, info, undefined))

    route(app, { method: 'get', path: item, operation: ops.read }, (c) => c.json(deps.store.objects.require(refFrom(c, info))))
    route(app, { method: 'get', path: `${item}/status`, operation: ops.readStatus }, (c) => {
      const o = deps.store.objects.require(refFrom(c, info))
      return c.json({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, status: o.status })
    })

    route(app, { method: 'put', path: item, operation: ops.replace }, async (c) => {
      const ref = refFrom(c, info)
      const objs = parseItems(await readDocuments(c), { expectKind: info, namespace: ref.namespace })
      if (objs.length !== 1) {
        throw new ApplianceError('api.validation', `PUT takes exactly one object, got ${objs.length}`, { issues: [{ path: '', message: 'expected one object' }] })
      }
      if (objs[0]!.metadata.name !== ref.name) {
        throw new ApplianceError('api.validation', `metadata.name "${objs[0]!.metadata.name}" does not match the path name "${ref.name}"`, {
          context: { ...ref },
          issues: [{ path: 'metadata.name', message: `must be ${ref.name} (the name in the path)` }],
        })
      }
      const outcome = applyLocalObjects(deps.store, objs, deps.node)
      const r = outcome.results[0]!
      return c.json(r.object, r.action === 'created' ? 201 : 200)
    })

    route(app, { method: 'post', path: collection, operation: ops.apply }, async (c) => {
      const namespace = checkName(c.req.param('namespace') ?? '', 'metadata.namespace')
      const objs = parseItems(await readDocuments(c), { expectKind: info, namespace })
      const outcome = applyLocalObjects(deps.store, objs, deps.node)
      if (objs.length === 1 && outcome.rendered.length === 0 && outcome.pruned.length === 0) {
        const r = outcome.results[0]!
        return c.json(r.object, r.action === 'created' ? 201 : 200)
      }
      return c.json(applyBody(outcome, deps.store.resourceVersion()))
    })

    route(app, { method: 'delete', path: item, operation: ops.delete }, (c) => {
      const outcome = deleteLocalObjects(deps.store, [refFrom(c, info)])
      return c.json(outcome.results[0]!.object)
    })
  }
  return app
}
