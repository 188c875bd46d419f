/**
 * `/openapi.json`: the OpenAPI 3.1 document generated from the routes the app serves (`buildApplianceOpenApi`),
 * built on the first request, when every route is registered, and kept: routes do not change after `createApp`.
 */
import { Hono } from 'hono'
import type { RouterRoute } from 'hono/types'
import { jsonContent } from '../../../api/openapi.js'
import type { AppEnv } from '../env.js'
import { buildApplianceOpenApi } from '../openapi.js'
import { route } from '../route.js'

export interface OpenApiRoutesOptions {
  /** The routes of the whole app, read once they are all registered. */
  routes: () => readonly RouterRoute[]
  /** `info.version` of the document: the appliance's version. */
  version?: string
}

export function openApiRoutes(opts: OpenApiRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  let doc: string | undefined
  route(
    app,
    {
      method: 'get',
      path: '/openapi.json',
      operation: {
        operationId: 'getOpenApi',
        tags: ['docs'],
        summary: 'This document: OpenAPI 3.1, generated from the routes the appliance serves',
        responses: {
          '200': {
            description: 'OpenAPI 3.1 document',
            content: jsonContent({
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
            }),
          },
        },
      },
    },
    (c) => {
      doc ??= JSON.stringify(buildApplianceOpenApi(opts.routes(), opts.version ? { version: opts.version } : {}))
      return c.body(doc, 200, { 'content-type': 'application/json' })
    },
  )
  return app
}
