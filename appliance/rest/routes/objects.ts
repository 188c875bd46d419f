/**
 * Kubernetes-style object routes, one set for every kind in the registry:
 *   GET    /apis/{group}/{version}/{plural}                                 list (all namespaces), ?watch=true
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}                 list, ?labelSelector=, ?watch=true
 *   POST   /apis/{group}/{version}/namespaces/{ns}/{plural}                 apply one object or a List of this kind
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          get
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status   get (status subresource)
 *   PUT    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          apply (create or update)
 *   DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}          delete
 */
import { Hono, type Context } from 'hono'
import { ApplianceError } from '../../../api/errors.js'
import { NameSchema, type ObjectRef } from '../../../api/meta.js'
import type { KindInfo } from '../../../api/resources/kind.js'
import { KINDS, kindByPath } from '../../../api/resources/registry.js'
import { applyLocalObjects, deleteLocalObjects } from '../../desired/index.js'
import { matchesLabels, parseLabelSelector } from '../../store/index.js'
import { parseItems, readDocuments } from '../body.js'
import type { RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { applyBody, listBody } from '../present.js'
import { watchResponse } from '../watch-stream.js'

function kindOf(c: Context<AppEnv>): KindInfo {
  const group = c.req.param('group') ?? ''
  const version = c.req.param('version') ?? ''
  const plural = c.req.param('plural') ?? ''
  const info = kindByPath(group, version, plural)
  if (info) return info
  const other = KINDS.find((k) => k.group === group && k.plural === plural)
  if (other) {
    throw new ApplianceError('api.wrong-api-version', `${other.kind} is served at ${other.apiVersion}, not ${group}/${version}`, {
      context: { apiVersion: `${group}/${version}`, kind: other.kind },
      issues: [{ path: 'apiVersion', message: `must be ${other.apiVersion}` }],
    })
  }
  throw new ApplianceError('api.unknown-kind', `no kind is served at /apis/${group}/${version}/${plural}`, {
    context: { group, version, plural },
    issues: [{ path: 'kind', message: `unknown resource ${plural}.${group}/${version}` }],
  })
}

function checkName(value: string, field: 'metadata.name' | 'metadata.namespace'): string {
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

export function objectRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const heartbeat = deps.watchHeartbeatMs ?? 15_000

  const list = (c: Context<AppEnv>, namespace: string | undefined) => {
    const info = kindOf(c)
    if (namespace !== undefined) checkName(namespace, 'metadata.namespace')
    const selectorText = c.req.query('labelSelector') ?? ''
    const selector = parseLabelSelector(selectorText)
    const watch = c.req.query('watch')
    if (watch === 'true' || watch === '1') {
      return watchResponse(c, deps.store, { apiVersion: info.apiVersion, kind: info.kind, namespace, matches: (o) => matchesLabels(selector, o.metadata.labels ?? {}) }, heartbeat)
    }
    const items = deps.store.objects.list({ apiVersion: info.apiVersion, kind: info.kind, namespace, labelSelector: selector })
    return c.json(listBody(info.kind, deps.store.resourceVersion(), items))
  }

  app.get('/:group/:version/namespaces/:namespace/:plural', (c) => list(c, c.req.param('namespace')))
  app.get('/:group/:version/:plural', (c) => list(c, undefined))

  app.get('/:group/:version/namespaces/:namespace/:plural/:name', (c) => {
    return c.json(deps.store.objects.require(refFrom(c, kindOf(c))))
  })
  app.get('/:group/:version/namespaces/:namespace/:plural/:name/status', (c) => {
    const o = deps.store.objects.require(refFrom(c, kindOf(c)))
    return c.json({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, status: o.status })
  })

  app.put('/:group/:version/namespaces/:namespace/:plural/:name', async (c) => {
    const info = kindOf(c)
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

  app.post('/:group/:version/namespaces/:namespace/:plural', async (c) => {
    const info = kindOf(c)
    const namespace = checkName(c.req.param('namespace') ?? '', 'metadata.namespace')
    const objs = parseItems(await readDocuments(c), { expectKind: info, namespace })
    const outcome = applyLocalObjects(deps.store, objs, deps.node)
    if (objs.length === 1 && outcome.rendered.length === 0 && outcome.pruned.length === 0) {
      const r = outcome.results[0]!
      return c.json(r.object, r.action === 'created' ? 201 : 200)
    }
    return c.json(applyBody(outcome, deps.store.resourceVersion()))
  })

  app.delete('/:group/:version/namespaces/:namespace/:plural/:name', (c) => {
    const ref = refFrom(c, kindOf(c))
    const outcome = deleteLocalObjects(deps.store, [ref])
    return c.json(outcome.results[0]!.object)
  })

  return app
}
