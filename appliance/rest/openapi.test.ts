/**
 * `/openapi.json` checked against the app that serves it (the real hono app from `createApp`, a real store):
 *  - every route hono serves has its operation, and every operation is served;
 *  - the document passes two independent OpenAPI 3.1 validators (the official JSON schema through
 *    @seriousme/openapi-schema-validator; @readme/openapi-parser's rules with every rule an error), and every
 *    Schema Object in it compiles under Ajv's strict JSON Schema 2020-12;
 *  - security is what the server enforces: open operations answer without a token, the others 401;
 *  - each operation, called with the token, answers a status it documents, with a documented content type and
 *    a body its schema accepts (also with real objects stored, for every kind's reads).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validate as readmeValidate } from '@readme/openapi-parser'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HTTP_METHODS, type HttpMethod } from '../../api/openapi.js'
import { KINDS } from '../../api/resources/registry.js'
import { createLogger } from '../../api/support/logger.js'
import { createMetricsRegistry } from '../observe/index.js'
import { openStore, type Store } from '../store/index.js'
import { createApp } from './app.js'
import type { AppEnv } from './env.js'

type Json = Record<string, any>
interface DocumentedOperation {
  method: HttpMethod
  path: string
  op: Json
}

const TOKEN = 'openapi-test-token-0123456789abcdef0123'
const NS = 'dpf-operator-system'
const fixture = (f: string) => readFileSync(join(import.meta.dirname, '../../test/fixtures/dpf', f), 'utf8')

let dir: string
let store: Store
let app: Hono<AppEnv>
let doc: Json
let operations: DocumentedOperation[]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openapi-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
  app = createApp({ store, log: createLogger({ level: 'silent' }), registry: createMetricsRegistry({ defaultMetrics: false }), token: () => TOKEN, node: { name: 'dpu-a', labels: {} } })
  const res = await app.request('/openapi.json', { headers: { authorization: `Bearer ${TOKEN}` } })
  expect(res.status).toBe(200)
  doc = (await res.json()) as Json
  operations = Object.entries<Json>(doc.paths).flatMap(([path, item]) => HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })))
})

afterAll(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('route coverage', () => {
  it('documents every route hono serves and serves every documented operation', () => {
    // Middleware entries (app.use) are method ALL; they answer nothing themselves.
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`)
    const documented = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`)
    expect(new Set(served).size).toBe(served.length)
    expect(
      documented.filter((d) => !served.includes(d)),
      'documented but not served',
    ).toEqual([])
    expect(
      served.filter((s) => !documented.includes(s)),
      'served but not documented',
    ).toEqual([])
  })

  it('covers what issue #12 found missing, and every kind', () => {
    const documented = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`))
    for (const route of [
      'GET /apis/appliance/v1/status',
      'GET /apis/appliance/v1/bridges',
      'GET /apis/appliance/v1/flows',
      'GET /apis/appliance/v1/chain-counters',
      'POST /apis/appliance/v1/trace',
      'GET /version',
      'GET /docs/{asset}',
    ])
      expect(documented, route).toContain(route)
    for (const k of KINDS) {
      const list = doc.paths[`/apis/${k.group}/${k.version}/namespaces/{namespace}/${k.plural}`].get
      expect(list.parameters, k.kind).toEqual(expect.arrayContaining([{ $ref: '#/components/parameters/watch' }, { $ref: '#/components/parameters/labelSelector' }]))
      expect(Object.keys(list.responses['200'].content)).toEqual(['application/json', 'text/event-stream'])
    }
    expect(doc.paths['/metrics'].get.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'query', explode: true })])
  })
})

describe('validation', () => {
  it('passes the official OpenAPI 3.1 JSON schema', async () => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc))
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('passes @readme/openapi-parser with every rule an error', async () => {
    const rules = {
      'array-without-items': 'error',
      'duplicate-non-request-body-parameters': 'error',
      'duplicate-operation-id': 'error',
      'invalid-security-scheme-properties': 'error',
      'non-optional-path-parameters': 'error',
      'path-parameters-not-in-parameters': 'error',
      'path-parameters-not-in-path': 'error',
    } as const
    const result = await readmeValidate(structuredClone(doc) as never, { validate: { errors: { colorize: false }, rules: { openapi: rules } } })
    expect(result.valid ? [] : result.errors).toEqual([])
    expect(result.warnings).toEqual([])
  })

  it('compiles every Schema Object under strict JSON Schema 2020-12', () => {
    const schemas = schemaObjects(doc)
    expect(schemas.length).toBeGreaterThan(100)
    const ajv = documentAjv(doc)
    const seen = new Set<string>()
    for (const { where, schema } of schemas) {
      const key = JSON.stringify(schema)
      if (seen.has(key)) continue // the same schema at another place: compiled once
      seen.add(key)
      expect(() => ajv.compile(withAbsoluteRefs(schema)), where).not.toThrow()
    }
  })

  it('names only security schemes it defines, and marks open exactly the routes outside /apis but /metrics and /openapi.json', () => {
    const schemes = Object.keys(doc.components.securitySchemes)
    for (const { method, path, op } of operations) {
      for (const requirement of op.security) for (const name of Object.keys(requirement)) expect(schemes, `${method} ${path}`).toContain(name)
      expect(op.security.length === 0, `${method} ${path}`).toBe(!path.startsWith('/apis') && path !== '/metrics' && path !== '/openapi.json')
    }
  })
})

describe('the server does what the document says', () => {
  it('answers open operations without a token and refuses the others with 401', async () => {
    for (const o of operations) {
      const res = await app.request(sampleUrl(o), { method: o.method.toUpperCase() })
      await res.arrayBuffer()
      if (o.op.security.length === 0) expect(res.status, `${o.method} ${o.path}`).not.toBe(401)
      else {
        expect(res.status, `${o.method} ${o.path}`).toBe(401)
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      }
    }
  })

  it('answers every operation with a documented status, content type and body', async () => {
    const checked = await checkAll(operations)
    expect(checked).toBe(operations.length)
  })

  it('answers reads of real objects of every stored kind with bodies their schemas accept', async () => {
    const body = [fixture('dpuserviceinterfaces.yaml'), fixture('dpuservicechain-hbn-to-fabric.yaml'), fixture('dpuservicenad.yaml')].join('\n---\n')
    const applied = await app.request('/apis/appliance/v1/apply', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' }, body })
    expect(applied.status).toBe(200)
    const kindsRead = new Set<string>()
    for (const o of operations.filter((o) => o.method === 'get' && o.path.startsWith('/apis/') && o.op['x-kubernetes-group-version-kind'])) {
      const kind = o.op['x-kubernetes-group-version-kind'].kind as string
      const info = KINDS.find((k) => k.kind === kind)!
      const name = store.objects.list({ apiVersion: info.apiVersion, kind, namespace: NS })[0]?.metadata.name
      if (o.path.includes('{name}') && name === undefined) continue
      await checkOne(o, { namespace: NS, name: name ?? '' }, 200)
      kindsRead.add(kind)
    }
    // The fixtures store interfaces, chains (rendered and fleet) and a NAD.
    expect([...kindsRead]).toEqual(expect.arrayContaining(['ServiceInterface', 'ServiceChain', 'DPUServiceChain', 'DPUServiceInterface', 'DPUServiceNAD']))
  })
})

/** Every Schema Object of the document, with where it sits. */
function schemaObjects(node: Json): { where: string; schema: Json }[] {
  const out: { where: string; schema: Json }[] = Object.entries<Json>(node.components.schemas).map(([name, schema]) => ({ where: `components.schemas.${name}`, schema }))
  const walk = (n: unknown, where: string): void => {
    if (Array.isArray(n)) return n.forEach((x, i) => walk(x, `${where}[${i}]`))
    if (n === null || typeof n !== 'object') return
    for (const [k, v] of Object.entries(n)) {
      if (k === 'schema' && v !== null && typeof v === 'object') out.push({ where: `${where}.schema`, schema: v as Json })
      else walk(v, `${where}.${k}`)
    }
  }
  walk(node.paths, 'paths')
  walk(node.components.parameters, 'components.parameters')
  walk(node.components.responses, 'components.responses')
  return out
}

const DOC_ID = 'urn:dpu-appliance:openapi'

/** `#/components/schemas/X` refers into the document; Ajv gets the components as one schema resource instead. */
function withAbsoluteRefs<T>(node: T): T {
  return JSON.parse(JSON.stringify(node).replaceAll('"#/components/schemas/', `"${DOC_ID}#/$defs/`)) as T
}

/** Strict Ajv (unknown keywords, ambiguous types and the like are errors) that resolves the document's schemas. */
function documentAjv(d: Json): Ajv2020 {
  // Formats are annotations in 2020-12 unless a format vocabulary is asserted; we only check schema structure.
  // Union types (`type: ['string', 'number']`, zod's int-or-string) are plain 2020-12, only Ajv's taste refuses them.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false })
  ajv.addSchema({ $id: DOC_ID, $defs: withAbsoluteRefs(d.components.schemas) })
  return ajv
}

let ajvForResponses: Ajv2020 | undefined
const validators = new Map<string, ValidateFunction>()
function validatorFor(schema: Json): ValidateFunction {
  ajvForResponses ??= documentAjv(doc)
  const key = JSON.stringify(schema)
  let v = validators.get(key)
  if (!v) validators.set(key, (v = ajvForResponses.compile(withAbsoluteRefs(schema))))
  return v
}

/** A concrete URL for an operation: shared path parameters from `values`, others from their enum (or `x`). */
function sampleUrl(o: DocumentedOperation, values: Record<string, string> = {}): string {
  return o.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (values[name] !== undefined) return encodeURIComponent(values[name])
    const own = (o.op.parameters as Json[] | undefined)?.find((p) => p.name === name && p.in === 'path')
    return own?.schema?.enum?.[0] ?? (name === 'namespace' ? 'default' : 'x')
  })
}

function resolve(node: Json): Json {
  if (typeof node.$ref !== 'string') return node
  return node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((n: Json, seg: string) => n[seg], doc)
}

/**
 * Calls an operation with the token (a body of `{}` where it takes one) and checks the answer against the
 * document: status documented, content type documented for it, JSON body accepted by its schema.
 */
async function checkOne(o: DocumentedOperation, values: Record<string, string> = {}, expectStatus?: number): Promise<void> {
  const where = `${o.method.toUpperCase()} ${o.path}`
  const init: RequestInit = { method: o.method.toUpperCase(), headers: { authorization: `Bearer ${TOKEN}`, ...(o.op.requestBody ? { 'content-type': 'application/json' } : {}) } }
  if (o.op.requestBody) init.body = '{}'
  const res = await app.request(sampleUrl(o, values), init)
  const text = await res.text()
  if (expectStatus !== undefined) expect(res.status, `${where}: ${text}`).toBe(expectStatus)
  expect(Object.keys(o.op.responses), `${where} answered ${res.status}: ${text}`).toContain(String(res.status))
  const response = resolve(o.op.responses[String(res.status)])
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim()
  if (!response.content) return void expect(text, where).toBe('')
  expect(Object.keys(response.content), `${where} ${res.status}`).toContain(mediaType)
  const schema = response.content[mediaType].schema as Json
  if (mediaType === 'application/json' || mediaType === 'application/problem+json') {
    const validate = validatorFor(schema)
    expect(validate(JSON.parse(text)) ? [] : validate.errors, `${where} ${res.status} body`).toEqual([])
  }
}

async function checkAll(ops: DocumentedOperation[]): Promise<number> {
  let n = 0
  for (const o of ops) {
    await checkOne(o)
    n++
  }
  return n
}
