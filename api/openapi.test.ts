import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from './error-codes.js'
import { buildOpenApi } from './openapi.js'
import { KINDS } from './resources/registry.js'

type Json = Record<string, any>
const doc = buildOpenApi() as Json

/** Every `$ref` in the document, to check each points at something. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out)
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) k === '$ref' && typeof v === 'string' ? out.push(v) : refs(v, out)
  return out
}

describe('buildOpenApi', () => {
  it('is an OpenAPI 3.1.0 document that survives JSON', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc)
    expect(doc.info).toMatchObject({ title: 'dpu-appliance', version: expect.any(String) })
  })

  it('is deterministic', () => {
    expect(JSON.stringify(buildOpenApi())).toBe(JSON.stringify(doc))
  })

  it.each(KINDS.map((k) => [k.kind, k] as const))('has the paths and schemas of %s', (_kind, k) => {
    const base = `/apis/${k.group}/${k.version}`
    const ns = `${base}/namespaces/{namespace}/${k.plural}`
    expect(Object.keys(doc.paths[ns])).toEqual(expect.arrayContaining(['get', 'post']))
    expect(Object.keys(doc.paths[`${ns}/{name}`])).toEqual(expect.arrayContaining(['get', 'put', 'delete']))
    expect(Object.keys(doc.paths[`${ns}/{name}/status`])).toEqual(expect.arrayContaining(['get']))
    expect(Object.keys(doc.paths[`${base}/${k.plural}`])).toEqual(['get'])
    for (const name of [k.kind, `${k.kind}Apply`, `${k.kind}List`]) expect(doc.components.schemas[name]).toBeTypeOf('object')
    expect(doc.components.schemas[`${k.kind}Apply`].properties.kind.const).toBe(k.kind)
    expect(doc.components.schemas[`${k.kind}Apply`].properties.apiVersion.const).toBe(k.apiVersion)
    expect(doc.paths[ns].post.requestBody.content['application/json'].schema).toEqual({ $ref: `#/components/schemas/${k.kind}Apply` })
  })

  it('carries the zod constraints into the schemas', () => {
    const sc = doc.components.schemas.ServiceChainApply.properties.spec.properties.switches
    expect(sc).toMatchObject({ type: 'array', minItems: 1, maxItems: 50 })
    expect(sc.items.properties.serviceMTU).toMatchObject({ minimum: 1280, maximum: 9216 })
    expect(sc.items.properties.ports.items.properties.serviceInterface.properties.matchLabels).toMatchObject({ minProperties: 1, maxProperties: 50 })
    expect(doc.components.schemas.ServiceInterfaceApply.properties.spec.properties.interfaceType.enum).toEqual(['vlan', 'physical', 'pf', 'vf', 'ovn', 'service', 'patch'])
  })

  it('has unique operation ids', () => {
    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).filter((op: any) => op?.operationId).map((op: any) => op.operationId))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBe(KINDS.length * 7 + 3)
  })

  it('resolves every $ref', () => {
    for (const r of refs(doc)) {
      const target = r.replace(/^#\//, '').split('/').reduce((n: any, seg) => n?.[seg], doc)
      expect(target, r).toBeTypeOf('object')
    }
  })

  it('has probes, metrics, bearer auth and RFC 9457 problems', () => {
    expect(doc.paths['/healthz'].get.security).toEqual([])
    expect(doc.paths['/readyz'].get.security).toEqual([])
    expect(doc.paths['/metrics'].get).toBeTypeOf('object')
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' })
    expect(doc.security).toEqual([{ bearerAuth: [] }])
    const problem = doc.components.schemas.Problem
    expect(Object.keys(problem.properties)).toEqual(['type', 'title', 'status', 'detail', 'instance', 'code', 'errors'])
    expect(problem.properties.code.enum).toEqual(Object.keys(ERROR_CODES))
    expect(doc.components.responses['400'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' })
  })

  it('has no JSON Schema dialect marker inside component schemas', () => {
    for (const s of Object.values(doc.components.schemas)) expect(s).not.toHaveProperty('$schema')
  })
})
