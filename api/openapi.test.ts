import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from './error-codes.js'
import { buildOpenApi, kindSchemaNames, parameterRef, problemResponses, schemaRef, type OpenApiDocumentParts } from './openapi.js'
import { KINDS } from './resources/registry.js'

type Json = Record<string, any>
// The REST layer supplies the operations (appliance/rest/openapi.test.ts checks those against the served routes);
// here one operation that uses each kind of shared component, so the $ref checks cover them.
const parts: OpenApiDocumentParts = {
  paths: {
    '/things/{namespace}/{name}': {
      get: {
        operationId: 'readThing',
        summary: 'A sample operation',
        tags: ['sample'],
        parameters: [parameterRef('namespace'), parameterRef('name'), parameterRef('labelSelector'), parameterRef('watch'), parameterRef('resourceVersion')],
        responses: {
          '200': { description: 'OK', content: { 'application/json': { schema: schemaRef('ServiceChain') } } },
          ...problemResponses('400', '401', '404', '409', '410', '413', '415', '422', '503', 'default'),
        },
      },
    },
  },
  tags: [{ name: 'sample' }],
}
const doc = buildOpenApi(parts) as Json

/** Every `$ref` in the document, to check each points at something. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out)
  else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) k === '$ref' && typeof v === 'string' ? out.push(v) : refs(v, out)
  return out
}

describe('buildOpenApi', () => {
  it('is an OpenAPI 3.1.0 document that survives JSON', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc)
    expect(doc.info).toMatchObject({ title: 'dpu-appliance', version: expect.any(String) })
  })

  it('is deterministic and carries the operations and tags it is given', () => {
    expect(JSON.stringify(buildOpenApi(parts))).toBe(JSON.stringify(doc))
    expect(doc.paths).toEqual(parts.paths)
    expect(doc.tags).toEqual(parts.tags)
  })

  it.each(KINDS.map((k) => [k.kind, k] as const))('has the schemas of %s', (_kind, k) => {
    const names = kindSchemaNames(k)
    expect(names).toEqual({ object: k.kind, apply: `${k.kind}Apply`, list: `${k.kind}List` })
    for (const name of Object.values(names)) expect(doc.components.schemas[name]).toBeTypeOf('object')
    const apply = doc.components.schemas[names.apply]
    expect(apply.properties.kind.const).toBe(k.kind)
    expect(apply.properties.apiVersion.const).toBe(k.apiVersion)
    const stored = doc.components.schemas[names.object]
    expect(stored.properties.spec).toEqual(apply.properties.spec)
    expect(stored.properties.status).toEqual({ $ref: '#/components/schemas/ObjectStatus' })
    // Lists go out as Kubernetes' v1 List envelope (appliance/rest/present.ts listBody).
    expect(doc.components.schemas[names.list].properties).toMatchObject({ apiVersion: { const: 'v1' }, kind: { const: names.list }, items: { items: { $ref: `#/components/schemas/${k.kind}` } } })
  })

  it('carries the zod constraints into the schemas', () => {
    const sc = doc.components.schemas.ServiceChainApply.properties.spec.properties.switches
    expect(sc).toMatchObject({ type: 'array', minItems: 1, maxItems: 50 })
    expect(sc.items.properties.serviceMTU).toMatchObject({ minimum: 1280, maximum: 9216 })
    expect(sc.items.properties.ports.items.properties.serviceInterface.properties.matchLabels).toMatchObject({ minProperties: 1, maxProperties: 50 })
    expect(doc.components.schemas.ServiceInterfaceApply.properties.spec.properties.interfaceType.enum).toEqual(['vlan', 'physical', 'pf', 'vf', 'ovn', 'service', 'patch'])
  })

  it('resolves every $ref', () => {
    for (const r of refs(doc)) {
      const target = r
        .replace(/^#\//, '')
        .split('/')
        .reduce((n: any, seg) => n?.[seg], doc)
      expect(target, r).toBeTypeOf('object')
    }
  })

  it('has bearer auth as the default requirement and RFC 9457 problems', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.security).toEqual([{ bearerAuth: [] }])
    const problem = doc.components.schemas.Problem
    expect(Object.keys(problem.properties)).toEqual(['type', 'title', 'status', 'detail', 'instance', 'code', 'errors', 'object'])
    expect(problem.properties.code.enum).toEqual(Object.keys(ERROR_CODES))
    for (const [status, response] of Object.entries<Json>(doc.components.responses)) {
      expect(response.content['application/problem+json'].schema, status).toEqual({ $ref: '#/components/schemas/Problem' })
    }
    // Every status a problem response is keyed by is one some error code answers with.
    const statuses = new Set(Object.values(ERROR_CODES).map((m) => String(m.status)))
    for (const status of Object.keys(doc.components.responses).filter((s) => s !== 'default')) expect(statuses, status).toContain(status)
  })

  it('declares the JSON Schema dialect once, for the document', () => {
    expect(doc.jsonSchemaDialect).toBe('https://spec.openapis.org/oas/3.1/dialect/base')
  })

  it('has no JSON Schema dialect marker inside component schemas', () => {
    for (const s of Object.values(doc.components.schemas)) expect(s).not.toHaveProperty('$schema')
  })
})
