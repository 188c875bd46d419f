/**
 * The REST app over a real loopback socket with a real SQLite store: happy paths, the bad-input table (each a
 * 4xx problem+json naming the field, and the store dump unchanged), auth on every /apis route, watch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../api/support/logger.js'
import { createMetricsRegistry } from '../observe/index.js'
import { openStore, type Store } from '../store/index.js'
import { createApp } from './app.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'
const SVC = '/apis/svc.dpu.nvidia.com/v1alpha1'
const NS = 'dpf-operator-system'

let dir: string
let store: Store
let url: string
let server: ReturnType<typeof serve>

async function startServer(s: Store): Promise<ReturnType<typeof serve>> {
  const app = createApp({
    store: s,
    log: createLogger({ level: 'silent' }),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    token: () => TOKEN,
    node: { name: 'dpu-a', labels: { rack: 'r1' } },
    watchHeartbeatMs: 200,
  })
  return new Promise((resolve) => {
    const srv = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(srv))
  })
}
async function stopServer(srv: ReturnType<typeof serve>): Promise<void> {
  if ('closeAllConnections' in srv) (srv as { closeAllConnections(): void }).closeAllConnections()
  await new Promise((r) => srv.close(r))
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rest-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
  server = await startServer(store)
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await stopServer(server)
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const auth = { authorization: `Bearer ${TOKEN}` }
function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/yaml' }), ...headers }, body })
}
const fixture = (f: string) => readFileSync(join(import.meta.dirname, '../../test/fixtures/dpf', f), 'utf8')

function si(name: string, extra = '') {
  return `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceInterface
metadata: {name: ${JSON.stringify(name)}, namespace: ${NS}}
spec: {interfaceType: physical, physical: {interfaceName: p0}${extra}}
`
}

describe('apply and read', () => {
  it('applies the DPF samples in one request and renders node objects for this node', async () => {
    const body = [fixture('dpuserviceinterfaces.yaml'), fixture('dpuservicechain-hbn-to-fabric.yaml'), fixture('dpuservicenad.yaml')].join('\n---\n')
    const res = await call('POST', '/apis/appliance/v1/apply', body)
    expect(res.status).toBe(200)
    const out = (await res.json()) as { items: { action: string; source: string; object: { kind: string; metadata: { name: string } } }[] }
    const rendered = out.items.filter((i) => i.source === 'rendered').map((i) => `${i.object.kind}/${i.object.metadata.name}`)
    expect(rendered).toEqual(expect.arrayContaining(['ServiceInterface/p0', 'ServiceInterface/p0-sf', 'ServiceInterface/ovn', 'ServiceChain/hbn-to-fabric']))
    expect(out.items.filter((i) => i.source === 'input').every((i) => i.action === 'created')).toBe(true)

    const list = (await (await call('GET', `${SVC}/namespaces/${NS}/serviceinterfaces`)).json()) as { kind: string; items: { metadata: { uid: string; generation: number }; spec: { node: string } }[] }
    expect(list.kind).toBe('ServiceInterfaceList')
    expect(list.items).toHaveLength(6)
    expect(list.items.every((o) => o.spec.node === 'dpu-a' && o.metadata.generation === 1 && o.metadata.uid.length === 36)).toBe(true)

    const dsc = (await (await call('GET', `${SVC}/namespaces/${NS}/dpuservicechains/hbn-to-fabric`)).json()) as { status: { conditions: { type: string; status: string; reason: string }[] } }
    // The fleet object rolls up its rendered ServiceChain, which no reconciler has acted on yet.
    expect(dsc.status.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'Pending' }),
      expect.objectContaining({ type: 'Rendered', status: 'True', reason: 'Rendered' }),
    ])
    const status = (await (await call('GET', `${SVC}/namespaces/${NS}/servicechains/hbn-to-fabric/status`)).json()) as { status: { conditions: { reason: string }[] }; spec?: unknown }
    expect(status.status.conditions[0]!.reason).toBe('Pending')
    expect(status.spec).toBeUndefined()
  })

  it('PUT creates then updates; generation moves only with the spec; labelSelector filters', async () => {
    const path = `${SVC}/namespaces/${NS}/serviceinterfaces/up1`
    const created = await call('PUT', path, si('up1'))
    expect(created.status).toBe(201)
    const again = await call('PUT', path, si('up1'))
    expect(again.status).toBe(200)
    expect(((await again.json()) as { metadata: { generation: number } }).metadata.generation).toBe(1)
    const changed = (await (await call('PUT', path, si('up1').replace('p0}', 'p1}'))).json()) as { metadata: { generation: number; resourceVersion: string } }
    expect(changed.metadata.generation).toBe(2)
    const labelled = si('up1').replace('metadata: {', 'metadata: {labels: {tier: edge}, ').replace('p0}', 'p1}')
    const l = (await (await call('PUT', path, labelled)).json()) as { metadata: { generation: number; resourceVersion: string } }
    expect(l.metadata.generation).toBe(2)
    expect(Number(l.metadata.resourceVersion)).toBeGreaterThan(Number(changed.metadata.resourceVersion))
    const sel = (await (await call('GET', `${SVC}/serviceinterfaces?labelSelector=${encodeURIComponent('tier=edge')}`)).json()) as { items: unknown[] }
    expect(sel.items).toHaveLength(1)
    // optimistic precondition
    const stale = labelled.replace('metadata: {', `metadata: {resourceVersion: "${changed.metadata.resourceVersion}", `)
    const conflict = await call('PUT', path, stale)
    expect(conflict.status).toBe(409)
    expect(((await conflict.json()) as { code: string }).code).toBe('store.conflict')
  })

  it('refuses local writes to hub-owned objects with 409 read-only', async () => {
    store.applyHubRevision(
      1,
      [{ apiVersion: 'svc.dpu.nvidia.com/v1alpha1', kind: 'ServiceInterface', metadata: { name: 'from-hub', namespace: NS }, spec: { interfaceType: 'pf', pf: { pfID: 0 } } }],
      [],
    )
    const put = await call('PUT', `${SVC}/namespaces/${NS}/serviceinterfaces/from-hub`, si('from-hub'))
    expect(put.status).toBe(409)
    const p = (await put.json()) as { code: string; detail: string }
    expect(p.code).toBe('store.read-only')
    expect(p.detail).toContain('hub')
    expect((await call('DELETE', `${SVC}/namespaces/${NS}/serviceinterfaces/from-hub`)).status).toBe(409)
  })

  it('deleting a fleet object deletes what was rendered from it', async () => {
    const res = await call('DELETE', `${SVC}/namespaces/${NS}/dpuservicechains/hbn-to-fabric`)
    expect(res.status).toBe(200)
    expect((await call('GET', `${SVC}/namespaces/${NS}/servicechains/hbn-to-fabric`)).status).toBe(404)
    const gone = await call('GET', `${SVC}/namespaces/${NS}/dpuservicechains/hbn-to-fabric`)
    expect(gone.status).toBe(404)
    expect(gone.headers.get('content-type')).toContain('application/problem+json')
  })

  it('serves events, discovery, probes, metrics, openapi and docs', async () => {
    const ev = (await (await call('GET', `/apis/appliance/v1/events?kind=ServiceInterface&name=up1&limit=2`)).json()) as { items: { reason: string }[] }
    expect(ev.items.map((e) => e.reason)).toEqual(['Configured', 'Configured'])
    const disc = (await (await call('GET', '/apis')).json()) as { resources: { kind: string; shortNames: string[] }[] }
    expect(disc.resources.find((r) => r.kind === 'DPUServiceChain')?.shortNames).toContain('dsc')
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ok: true, checks: [{ name: 'store', ok: true }] })
    const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text()
    expect(metrics).toMatch(/dpu_appliance_objects\{api_version="svc.dpu.nvidia.com\/v1alpha1",kind="ServiceInterface"\} \d+/)
    // Each kind has routes of its own, so latency is labelled per kind (bounded: seven routes per kind).
    expect(metrics).toMatch(/dpu_appliance_http_requests_total\{method="GET",route="\/apis\/svc.dpu.nvidia.com\/v1alpha1\/namespaces\/:namespace\/serviceinterfaces",status="200"\}/)
    expect(metrics).toMatch(/dpu_appliance_store_bytes \d+/)
    // ?name= answers just the metrics named; an unknown name is a 400 naming it.
    const one = await (await fetch(`${url}/metrics?name=dpu_appliance_store_bytes&name=dpu_appliance_watch_streams`, { headers: auth })).text()
    expect(one).toMatch(/^# HELP dpu_appliance_store_bytes /)
    expect(one).toMatch(/\ndpu_appliance_watch_streams \d+\n/)
    expect(one).not.toContain('dpu_appliance_objects')
    const bad = await fetch(`${url}/metrics?name=no_such_metric`, { headers: auth })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { detail: string }).detail).toContain('no_such_metric')
    const doc = (await (await fetch(`${url}/openapi.json`, { headers: auth })).json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/apis', '/apis/appliance/v1/apply', '/apis/appliance/v1/events', `${SVC}/namespaces/{namespace}/servicechains/{name}/status`]))
    expect(await (await fetch(`${url}/docs`)).text()).toContain('data-spec-url="openapi.json"')
    // Kubernetes version.Info, open like the probes.
    const version = (await (await fetch(`${url}/version`)).json()) as Record<string, string>
    expect(Object.keys(version).sort()).toEqual(['buildDate', 'compiler', 'gitCommit', 'gitTreeState', 'gitVersion', 'goVersion', 'major', 'minor', 'platform'])
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
    expect(version).toMatchObject({ gitVersion: `v${pkg.version}`, major: pkg.version.split('.')[0], minor: pkg.version.split('.')[1], goVersion: process.version, compiler: 'node' })
    expect(version.platform).toMatch(/^linux\/(amd64|arm64)$/)
  })

  it('answers GET /version without a token, as Kubernetes version.Info, and lists it in /openapi.json', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
    const res = await fetch(`${url}/version`)
    expect(res.status).toBe(200)
    const info = (await res.json()) as Record<string, string>
    expect(Object.keys(info).sort()).toEqual(['buildDate', 'compiler', 'gitCommit', 'gitTreeState', 'gitVersion', 'goVersion', 'major', 'minor', 'platform'])
    expect(info).toMatchObject({ gitVersion: `v${pkg.version}`, major: pkg.version.split('.')[0], minor: pkg.version.split('.')[1], goVersion: process.version, compiler: 'node' })
    expect(info.platform).toMatch(/^linux\/(amd64|arm64)$/)
    const doc = (await (await fetch(`${url}/openapi.json`, { headers: auth })).json()) as { paths: Record<string, { get?: { security?: unknown[] } }> }
    expect(doc.paths['/version']?.get?.security).toEqual([])
  })
})

describe('v1 Pod manifests', () => {
  const hbnPod = () => readFileSync(join(import.meta.dirname, '../../api/resources/testdata/doca-hbn-pod.yaml'), 'utf8')
  const pod = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {svc.dpu.nvidia.com/service: ${name}}, annotations: {k8s.v1.cni.cncf.io/networks: "sfc@in0, sfc@out0"}}
spec: {containers: [{name: main, image: localhost/busybox:test${extra}}]}
`

  it('applies a Pod and its ConfigMap as one Service, and deletes it by the same file', async () => {
    const res = await call('POST', '/apis/appliance/v1/apply', hbnPod())
    expect(res.status).toBe(200)
    const out = (await res.json()) as { items: { action: string; object: { kind: string; metadata: { name: string; namespace: string } } }[] }
    expect(out.items.map((i) => `${i.action} ${i.object.kind} ${i.object.metadata.namespace}/${i.object.metadata.name}`)).toEqual([`created Service ${NS}/doca-hbn`])
    const svc = (await (await call('GET', `${SVC}/namespaces/${NS}/services/doca-hbn`)).json()) as { spec: { serviceID: string; configMaps: Record<string, unknown>; interfaces: unknown[] } }
    expect(svc.spec.serviceID).toBe('doca-hbn')
    expect(Object.keys(svc.spec.configMaps)).toEqual(['doca-hbn-startup'])
    expect(svc.spec.interfaces).toHaveLength(3)
    const del = await call('POST', '/apis/appliance/v1/delete', hbnPod())
    expect(del.status).toBe(200)
    expect(((await del.json()) as { items: { action: string; ref: { kind: string; name: string } }[] }).items).toEqual([
      { action: 'deleted', source: 'input', ref: expect.objectContaining({ kind: 'Service', name: 'doca-hbn' }) },
    ])
    expect((await call('GET', `${SVC}/namespaces/${NS}/services/doca-hbn`)).status).toBe(404)
  })

  it('accepts a Pod on the services path, in the namespace of the path', async () => {
    const res = await call('POST', `${SVC}/namespaces/${NS}/services`, pod('by-path'))
    expect(res.status).toBe(201)
    expect(((await res.json()) as { kind: string; metadata: { namespace: string } }).metadata.namespace).toBe(NS)
    expect((await call('DELETE', `${SVC}/namespaces/${NS}/services/by-path`)).status).toBe(200)
  })

  it.each([
    {
      name: 'Pod without the serviceID label',
      body: pod('nolabel').replace('labels: {svc.dpu.nvidia.com/service: nolabel}', 'labels: {app: x}'),
      field: 'metadata.labels["svc.dpu.nvidia.com/service"]',
    },
    { name: 'Pod with initContainers', body: pod('init').replace('spec: {', 'spec: {initContainers: [{name: i, image: i}], '), field: 'spec.initContainers' },
    { name: 'Pod with env valueFrom', body: pod('vf', ', env: [{name: N, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]'), field: 'spec.containers[0].env[0].valueFrom' },
    { name: 'network without interface name', body: pod('noif').replace('sfc@in0, sfc@out0', 'sfc'), field: 'metadata.annotations["k8s.v1.cni.cncf.io/networks"]' },
    { name: 'ConfigMap alone', body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n', field: 'kind' },
    { name: 'second of two documents', body: `${si('fine')}---\n${pod('second').replace('image: localhost/busybox:test', 'image: ""')}`, field: 'spec.containers[0].image', index: 1 },
  ])('refuses $name with a 400 naming $field, store unchanged', async (tc) => {
    const before = JSON.stringify(store.dump())
    const res = await call('POST', '/apis/appliance/v1/apply', tc.body)
    expect(res.status).toBe(400)
    const p = (await res.json()) as { code: string; detail: string; errors: { path: string }[]; object?: { index?: number } }
    expect(p.code).toBe('api.validation')
    expect(p.errors.map((e) => e.path)).toContain(tc.field)
    if (tc.index !== undefined) expect(p.object?.index).toBe(tc.index)
    expect(JSON.stringify(store.dump())).toBe(before)
  })
})

describe('trace', () => {
  const trace = (body: unknown) => call('POST', '/apis/appliance/v1/trace', JSON.stringify(body), { 'content-type': 'application/json' })

  it('answers a malformed packet with a 400 naming the word, before asking for the switch', async () => {
    const res = await trace({ chain: 'c1', from: 'p0', packet: 'arp,dl_src 02:00:00:00:00:01' })
    expect(res.status).toBe(400)
    const p = (await res.json()) as { code: string; detail: string; errors: { path: string; message: string }[] }
    expect(p.code).toBe('api.validation')
    expect(p.detail).toContain('word 2 "dl_src 02:00:00:00:00:01" is not an ovs-ofctl field or field=value')
    expect(p.errors.map((e) => e.path)).toEqual(['packet'])
  })

  it('names missing fields, and answers a well-formed request on an appliance without OVS with 503', async () => {
    const missing = await trace({ packet: 'arp' })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['chain', 'from'])
    expect((await call('POST', '/apis/appliance/v1/trace', 'not json', { 'content-type': 'application/json' })).status).toBe(400)
    const ok = await trace({ chain: 'c1', from: 'p0', packet: 'arp' })
    expect(ok.status).toBe(503)
    expect(((await ok.json()) as { code: string }).code).toBe('ovsdb.unavailable')
  })
})

describe('bad input: 4xx problem+json naming the field, store unchanged', () => {
  const applyPath = '/apis/appliance/v1/apply'
  const siPath = `${SVC}/namespaces/${NS}/serviceinterfaces`
  const big = si('big', `, pad: ${JSON.stringify('x'.repeat(2 * 1024 * 1024))}`)
  const cases: { name: string; method?: string; path?: string; body: string; contentType?: string; status: number; code: string; field?: string; detail?: RegExp }[] = [
    { name: 'malformed YAML', body: 'apiVersion: v1\nkind: [unclosed\n', status: 400, code: 'api.decode', detail: /malformed YAML/ },
    { name: 'malformed JSON', body: '{"apiVersion": "svc.dpu.nvidia.com/v1alpha1", "kind": }', contentType: 'application/json', status: 400, code: 'api.decode', detail: /malformed JSON/ },
    { name: 'unknown kind', body: si('x').replace('kind: ServiceInterface', 'kind: ServiceWidget'), status: 404, code: 'api.unknown-kind', field: 'kind' },
    { name: 'wrong apiVersion', body: si('x').replace('v1alpha1', 'v1'), status: 400, code: 'api.wrong-api-version', field: 'apiVersion' },
    { name: 'missing required field', body: si('x').replace('interfaceType: physical, ', ''), status: 400, code: 'api.validation', field: 'spec.interfaceType' },
    { name: 'wrong type', body: si('x').replace('physical, physical: {interfaceName: p0}', 'pf, pf: {pfID: "zero"}'), status: 400, code: 'api.validation', field: 'spec.pf.pfID' },
    { name: 'sub-struct not matching interfaceType', body: si('x').replace('physical: {interfaceName: p0}', 'pf: {pfID: 0}'), status: 400, code: 'api.validation', field: 'spec.physical' },
    { name: '2 MiB body', body: big, status: 413, code: 'rest.body-too-large' },
    { name: 'name with /', body: si('a/b'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'name ..', body: si('..'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'upper-case name', body: si('Upper'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'unicode name', body: si('naïve'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'duplicate documents', body: `${si('dup')}---\n${si('dup')}`, status: 400, code: 'api.duplicate-object', field: 'items[1].metadata.name' },
    { name: 'unsupported content type', body: si('x'), contentType: 'text/html', status: 415, code: 'rest.unsupported-media-type' },
    { name: 'empty body', body: '', status: 400, code: 'api.validation', field: '' },
    { name: 'kind path with another kind', method: 'POST', path: `${SVC}/namespaces/${NS}/servicechains`, body: si('x'), status: 400, code: 'api.validation', field: 'kind' },
    { name: 'namespace differs from path', method: 'POST', path: `${SVC}/namespaces/other/serviceinterfaces`, body: si('x'), status: 400, code: 'api.validation', field: 'metadata.namespace' },
    { name: 'PUT name differs from path', method: 'PUT', path: `${siPath}/other`, body: si('x'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'PUT upper-case name in path', method: 'PUT', path: `${siPath}/Upper`, body: si('Upper'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'PUT unicode name in path', method: 'PUT', path: `${siPath}/${encodeURIComponent('naïve')}`, body: si('naïve'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'PUT name with encoded /', method: 'PUT', path: `${siPath}/a%2Fb`, body: si('a/b'), status: 400, code: 'api.validation', field: 'metadata.name' },
    { name: 'unknown plural in path', method: 'POST', path: `${SVC}/namespaces/${NS}/widgets`, body: si('x'), status: 404, code: 'api.unknown-kind', field: 'kind' },
    {
      name: 'wrong version in path',
      method: 'POST',
      path: `/apis/svc.dpu.nvidia.com/v1/namespaces/${NS}/serviceinterfaces`,
      body: si('x'),
      status: 400,
      code: 'api.wrong-api-version',
      field: 'apiVersion',
    },
    { name: 'a bad object among good ones', body: `${si('good1')}---\n${si('good2')}---\n${si('Bad')}`, status: 400, code: 'api.validation', field: 'metadata.name' },
  ]

  it.each(cases)('$name', async (tc) => {
    const before = JSON.stringify(store.dump())
    const res = await call(tc.method ?? 'POST', tc.path ?? applyPath, tc.body, { 'content-type': tc.contentType ?? 'application/yaml' })
    expect(res.status).toBe(tc.status)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const p = (await res.json()) as { type: string; title: string; status: number; detail: string; instance: string; code: string; errors: { path: string }[] }
    expect(p).toMatchObject({ type: `urn:dpu-appliance:problem:${tc.code}`, status: tc.status, code: tc.code })
    expect(p.instance).toBe(res.headers.get('x-request-id'))
    expect(p.detail.length).toBeGreaterThan(0)
    if (tc.field !== undefined) expect(p.errors.map((e) => e.path)).toContain(tc.field)
    if (tc.detail) expect(p.detail).toMatch(tc.detail)
    expect(JSON.stringify(store.dump())).toBe(before)
  })

  it('names the offending item and object of a batch', async () => {
    const res = await call('POST', applyPath, `${si('good1')}---\n${si('Bad')}`)
    const p = (await res.json()) as { detail: string; object: { index: number; kind: string; name: string } }
    expect(p.detail).toMatch(/^items\[1\]: ServiceInterface dpf-operator-system\/Bad/)
    expect(p.object).toMatchObject({ index: 1, kind: 'ServiceInterface', name: 'Bad' })
  })
})

describe('unmatched routes', () => {
  it('answers problem+json 404 outside /apis and 401 inside it', async () => {
    const res = await fetch(`${url}/nope`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { code: string }).code).toBe('rest.not-found')
    expect((await fetch(`${url}/apis/a/b/c/d/e/f/g/h`)).status).toBe(401)
    expect((await call('GET', '/apis/a/b/c/d/e/f/g/h')).status).toBe(404)
  })
})

describe('auth', () => {
  const routes: [string, string][] = [
    ['GET', '/apis'],
    ['GET', `${SVC}/serviceinterfaces`],
    ['GET', `${SVC}/namespaces/${NS}/serviceinterfaces`],
    ['GET', `${SVC}/namespaces/${NS}/serviceinterfaces?watch=true`],
    ['POST', `${SVC}/namespaces/${NS}/serviceinterfaces`],
    ['GET', `${SVC}/namespaces/${NS}/serviceinterfaces/up1`],
    ['GET', `${SVC}/namespaces/${NS}/serviceinterfaces/up1/status`],
    ['PUT', `${SVC}/namespaces/${NS}/serviceinterfaces/up1`],
    ['DELETE', `${SVC}/namespaces/${NS}/serviceinterfaces/up1`],
    ['POST', '/apis/appliance/v1/apply'],
    ['POST', '/apis/appliance/v1/delete'],
    ['GET', '/apis/appliance/v1/events'],
    ['GET', '/apis/nonexistent/v1/things'],
  ]
  const badHeaders: [string, Record<string, string>][] = [
    ['no token', {}],
    ['wrong token of the same length', { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }],
    ['token of the wrong length', { authorization: `Bearer ${TOKEN}x` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
    ['basic auth', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
  ]
  it.each(routes)('%s %s answers 401 to every bad credential', async (method, path) => {
    const before = JSON.stringify(store.dump())
    for (const [, headers] of badHeaders) {
      const res = await fetch(`${url}${path}`, { method, headers, ...(method === 'GET' || method === 'DELETE' ? {} : { body: si('up1') }) })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(((await res.json()) as { code: string }).code).toBe('rest.unauthorized')
    }
    expect(JSON.stringify(store.dump())).toBe(before)
  })
})

describe('watch', () => {
  async function readEvents(res: Response, count: number): Promise<{ event: string; id: string; data: { type: string; object: { metadata: { name: string } } } }[]> {
    const reader = res.body!.getReader()
    const out: { event: string; id: string; data: { type: string; object: { metadata: { name: string } } } }[] = []
    let buf = ''
    while (out.length < count) {
      const { value, done } = await reader.read()
      if (done) break
      buf += new TextDecoder().decode(value)
      let i
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const f = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        )
        if (f.event) out.push({ event: f.event, id: f.id!, data: JSON.parse(f.data!) })
      }
    }
    await reader.cancel()
    return out
  }

  it('streams current objects, then changes with resourceVersions, and resumes from one', async () => {
    const ac = new AbortController()
    const res = await fetch(`${url}${SVC}/namespaces/${NS}/serviceinterfaces?watch=true&labelSelector=w%3D1`, { headers: auth, signal: ac.signal })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(store.watcherCount()).toBe(1)
    const lab = (n: string) => si(n).replace('metadata: {', 'metadata: {labels: {w: "1"}, ')
    const pending = readEvents(res, 3)
    await call('PUT', `${SVC}/namespaces/${NS}/serviceinterfaces/w1`, lab('w1'))
    await call('PUT', `${SVC}/namespaces/${NS}/serviceinterfaces/nolabel`, si('nolabel'))
    await call('PUT', `${SVC}/namespaces/${NS}/serviceinterfaces/w1`, lab('w1').replace('p0}', 'p3}'))
    await call('DELETE', `${SVC}/namespaces/${NS}/serviceinterfaces/w1`)
    const events = await pending
    ac.abort()
    for (let i = 0; i < 50 && store.watcherCount() > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(store.watcherCount()).toBe(0) // a closed stream unsubscribes
    expect(events.map((e) => [e.event, e.data.object.metadata.name])).toEqual([
      ['ADDED', 'w1'],
      ['MODIFIED', 'w1'],
      ['DELETED', 'w1'],
    ])
    const ids = events.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))

    const resumed = await fetch(`${url}${SVC}/namespaces/${NS}/serviceinterfaces?watch=true&labelSelector=w%3D1&resourceVersion=${ids[0]}`, { headers: auth })
    expect((await readEvents(resumed, 2)).map((e) => e.event)).toEqual(['MODIFIED', 'DELETED'])
  })

  it('answers 410 problem+json when asked to resume from before what it holds (after a restart)', async () => {
    await stopServer(server)
    store.close()
    store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
    server = await startServer(store)
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const res = await call('GET', `${SVC}/namespaces/${NS}/serviceinterfaces?watch=true&resourceVersion=1`)
    expect(res.status).toBe(410)
    expect(((await res.json()) as { code: string }).code).toBe('store.expired')
    const bad = await call('GET', `${SVC}/namespaces/${NS}/serviceinterfaces?watch=true&resourceVersion=abc`)
    expect(bad.status).toBe(400)
  })
})
