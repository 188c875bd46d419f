/**
 * The route/operation mechanism on small real hono apps: operations survive `app.route()` mounting (also through
 * hono's wrapper for sub-apps with their own error handler), a plain `app.get` is refused, and security follows
 * the middleware marked with `securedBy`.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { OpenApiOperation } from '../../api/openapi.js'
import { isApplianceError } from '../../api/errors.js'
import { buildApplianceOpenApi, toOpenApiPath } from './openapi.js'
import { describeRoutes, route, securedBy } from './route.js'

const op = (operationId: string, extra: Partial<OpenApiOperation> = {}) => ({ operationId, summary: operationId, tags: ['appliance'], responses: { '200': { description: 'OK' } }, ...extra })

function caught(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (err) {
    if (isApplianceError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('expected a throw')
}

describe('route', () => {
  it('serves the handler and records the operation under the mounted path', async () => {
    const sub = new Hono()
    route(sub, { method: 'get', path: '/things/:name', operation: op('readThing') }, (c) => c.text(`thing ${c.req.param('name')}`))
    const app = new Hono()
    app.route('/apis', sub)
    expect(await (await app.request('/apis/things/a')).text()).toBe('thing a')
    expect(describeRoutes(app.routes)).toEqual([{ method: 'get', path: '/apis/things/:name', operation: op('readThing'), security: [] }])
  })

  it('finds operations behind the wrapper hono puts around a sub-app with its own error handler', async () => {
    const sub = new Hono()
    sub.onError((_err, c) => c.text('sub error', 500))
    route(sub, { method: 'post', path: '/boom', operation: op('boom') }, () => {
      throw new Error('x')
    })
    const app = new Hono()
    app.route('/', sub)
    expect(await (await app.request('/boom', { method: 'POST' })).text()).toBe('sub error')
    expect(describeRoutes(app.routes).map((r) => r.operation.operationId)).toEqual(['boom'])
  })

  it('keeps two operations apart when one handler serves two routes', () => {
    const app = new Hono()
    const handler = () => new Response('same')
    route(app, { method: 'get', path: '/a', operation: op('getA') }, handler)
    route(app, { method: 'get', path: '/b', operation: op('getB') }, handler)
    expect(describeRoutes(app.routes).map((r) => [r.path, r.operation.operationId])).toEqual([
      ['/a', 'getA'],
      ['/b', 'getB'],
    ])
  })

  it('refuses a route registered without a description, naming it', () => {
    const app = new Hono()
    app.use('*', async (_c, next) => next())
    route(app, { method: 'get', path: '/described', operation: op('described') }, (c) => c.text('ok'))
    app.get('/plain/:id', (c) => c.text('plain'))
    expect(caught(() => describeRoutes(app.routes))).toEqual({ code: 'rest.api-description', message: expect.stringContaining('GET /plain/:id') })
  })

  it('documents as secured exactly the routes a securedBy middleware covers', () => {
    const app = new Hono()
    const auth = securedBy(async (_c, next) => next(), { bearerAuth: [] })
    app.use('*', async (_c, next) => next())
    app.use('/apis', auth)
    app.use('/apis/*', auth)
    for (const path of ['/healthz', '/apis', '/apis/x/:name', '/apisx']) route(app, { method: 'get', path, operation: op(`get${path}`) }, (c) => c.text('ok'))
    expect(Object.fromEntries(describeRoutes(app.routes).map((r) => [r.path, r.security]))).toEqual({
      '/healthz': [],
      '/apis': [{ bearerAuth: [] }],
      '/apis/x/:name': [{ bearerAuth: [] }],
      '/apisx': [],
    })
  })
})

describe('buildApplianceOpenApi', () => {
  it('maps hono patterns to OpenAPI templates', () => {
    expect(toOpenApiPath('/apis/g/v/namespaces/:namespace/things/:name/status')).toEqual({ path: '/apis/g/v/namespaces/{namespace}/things/{name}/status', params: ['namespace', 'name'] })
    expect(toOpenApiPath('/items/:id{[0-9]+}')).toEqual({ path: '/items/{id}', params: ['id'] })
    expect(caught(() => toOpenApiPath('/files/*')).code).toBe('rest.api-description')
  })

  it('declares every path parameter: the shared one, the operation own, or a string', () => {
    const app = new Hono()
    const own = { name: 'file', in: 'path' as const, required: true, schema: { type: 'string', enum: ['a.js'] } }
    route(app, { method: 'get', path: '/ns/:namespace/:file/:other', operation: op('get', { parameters: [own, { name: 'q', in: 'query', schema: { type: 'string' } }] }) }, (c) => c.text('ok'))
    const doc = buildApplianceOpenApi(app.routes) as { paths: Record<string, { get: { parameters: unknown[]; security: unknown[] } }> }
    expect(doc.paths['/ns/{namespace}/{file}/{other}']!.get.parameters).toEqual([
      { $ref: '#/components/parameters/namespace' },
      own,
      { name: 'other', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'q', in: 'query', schema: { type: 'string' } },
    ])
    expect(doc.paths['/ns/{namespace}/{file}/{other}']!.get.security).toEqual([])
  })

  it.each([
    [
      'a path parameter the path does not have',
      (app: Hono) => route(app, { method: 'get', path: '/x', operation: op('x', { parameters: [{ name: 'id', in: 'path', required: true, schema: {} }] }) }, (c) => c.text('')),
    ],
    ['one operationId twice', (app: Hono) => ['/a', '/b'].forEach((p) => route(app, { method: 'get', path: p, operation: op('same') }, (c) => c.text('')))],
    ['one method and path twice', (app: Hono) => ['a', 'b'].forEach((id) => route(app, { method: 'get', path: '/same', operation: op(id) }, (c) => c.text('')))],
    ['a tag without a description', (app: Hono) => route(app, { method: 'get', path: '/x', operation: op('x', { tags: ['nameless'] }) }, (c) => c.text(''))],
  ])('refuses %s', (_name, register) => {
    const app = new Hono()
    register(app)
    expect(caught(() => buildApplianceOpenApi(app.routes)).code).toBe('rest.api-description')
  })
})
