/**
 * Observed switch state under the appliance's own API group: bridges as vswitchd reports them (ours marked,
 * Interface errors included), installed flows in ovs-ofctl text, and a packet trace through a chain. Read-only;
 * 503 when the appliance runs without OVS.
 */
import { Hono } from 'hono'
import { jsonContent, problemResponses, type JsonObject, type OpenApiParameter } from '../../../api/openapi.js'
import { toFieldIssues } from '../../../api/resources/issues.js'
import { TraceRequestSchema } from '../../../api/trace-request.js'
import type { RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { SwitchUnavailableError, ValidationProblemError } from '../errors.js'
import { parseJson } from '../body.js'
import { readBodyText } from '../middleware/body-limit/index.js'
import { route } from '../route.js'

/** The switch's answers are plain data from the node controller; their item shapes are its, described in prose. */
const listOf = (kind: string, item: JsonObject): JsonObject => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'items'],
  properties: { apiVersion: { type: 'string', const: 'appliance/v1' }, kind: { type: 'string', const: kind }, items: { type: 'array', items: item } },
})
const query = (name: string, schema: JsonObject, description: string): OpenApiParameter => ({ name, in: 'query', required: false, description, schema })
const ok = (description: string, schema: JsonObject): JsonObject => ({ description, content: jsonContent(schema) })
// 503 when the appliance runs without OVS (--ovsdb none) or has lost it; 502/504 from OVS itself are `default`.
const switchProblems = problemResponses('401', '503', 'default')

export function switchRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const view = () => {
    if (!deps.switchView) throw new SwitchUnavailableError()
    return deps.switchView
  }
  route(
    app,
    {
      method: 'get',
      path: '/appliance/v1/status',
      operation: {
        operationId: 'readApplianceStatus',
        tags: ['appliance'],
        summary: 'The appliance itself: node, store revision, objects per kind, hub sync and OVS connection (dpuctl status)',
        responses: {
          '200': ok('ApplianceStatus', {
            type: 'object',
            required: ['apiVersion', 'kind', 'node', 'resourceVersion', 'objects'],
            properties: {
              apiVersion: { type: 'string', const: 'appliance/v1' },
              kind: { type: 'string', const: 'ApplianceStatus' },
              node: { type: 'string' },
              resourceVersion: { type: 'string' },
              objects: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Stored objects per kind' },
            },
          }),
          ...problemResponses('401'),
        },
      },
    },
    (c) =>
      c.json({
        apiVersion: 'appliance/v1',
        kind: 'ApplianceStatus',
        node: deps.node.name,
        resourceVersion: String(deps.store.resourceVersion()),
        objects: Object.fromEntries(deps.store.objects.countByKind().map((r) => [r.kind, r.count])),
        ...(deps.status?.() ?? {}),
      }),
  )
  route(
    app,
    {
      method: 'get',
      path: '/appliance/v1/bridges',
      operation: {
        operationId: 'listBridges',
        tags: ['switch'],
        summary: 'Bridges as ovs-vswitchd reports them: ours marked, with their ports and Interface errors',
        responses: { '200': ok('BridgeList', listOf('BridgeList', { type: 'object', description: 'A bridge with its ports and interfaces' })), ...switchProblems },
      },
    },
    (c) => c.json({ apiVersion: 'appliance/v1', kind: 'BridgeList', items: view().bridges() }),
  )
  route(
    app,
    {
      method: 'get',
      path: '/appliance/v1/flows',
      operation: {
        operationId: 'listFlows',
        tags: ['switch'],
        summary: 'Installed flows per bridge, in ovs-ofctl text',
        parameters: [query('bridge', { type: 'string' }, 'Only this bridge'), query('stats', { type: 'string', enum: ['true', 'false'] }, 'Include packet and byte counters')],
        responses: {
          '200': ok('FlowDump', listOf('FlowDump', { type: 'object', required: ['bridge', 'flows'], properties: { bridge: { type: 'string' }, flows: { type: 'array', items: { type: 'string' } } } })),
          ...switchProblems,
        },
      },
    },
    async (c) => {
      const v = view()
      if (!v.flows) throw new SwitchUnavailableError()
      const bridge = c.req.query('bridge') || undefined
      return c.json({ apiVersion: 'appliance/v1', kind: 'FlowDump', items: await v.flows(bridge, { stats: c.req.query('stats') === 'true' }) })
    },
  )
  route(
    app,
    {
      method: 'get',
      path: '/appliance/v1/chain-counters',
      operation: {
        operationId: 'listChainCounters',
        tags: ['switch'],
        summary: 'Packet and byte counters per chain, read from flow stats now',
        parameters: [query('name', { type: 'string' }, 'Only this chain'), query('namespace', { type: 'string', default: 'default' }, 'Namespace of the chain named')],
        responses: { '200': ok('ChainCounterList', listOf('ChainCounterList', { type: 'object', description: 'A chain with its flow, packet and byte counts' })), ...switchProblems },
      },
    },
    async (c) => {
      const v = view()
      if (!v.counters) throw new SwitchUnavailableError()
      const name = c.req.query('name')
      const chain = name ? { namespace: c.req.query('namespace') || 'default', name } : undefined
      return c.json({ apiVersion: 'appliance/v1', kind: 'ChainCounterList', items: await v.counters(chain) })
    },
  )
  route(
    app,
    {
      method: 'post',
      path: '/appliance/v1/trace',
      operation: {
        operationId: 'traceChain',
        tags: ['switch'],
        summary: "ofproto/trace of a sample packet entering a chain's port",
        requestBody: {
          required: true,
          content: jsonContent({
            type: 'object',
            required: ['chain', 'from'],
            properties: {
              chain: { type: 'string', description: 'ServiceChain name' },
              namespace: { type: 'string', default: 'default' },
              from: { type: 'string', description: 'The port of the chain the packet enters at' },
              packet: { type: 'string', description: 'ovs-appctl flow syntax; a default packet when absent' },
            },
          }),
        },
        responses: { '200': ok('The trace', { type: 'object' }), ...problemResponses('400', '401', '413', '422', '503', 'default') },
      },
    },
    // The request is checked before the switch is: a malformed packet is a 400 naming the word, never a 503.
    async (c) => {
      const parsed = TraceRequestSchema.safeParse(parseJson(await readBodyText(c)) ?? null)
      if (!parsed.success) {
        const issues =
          parsed.error.issues.length === 1 && parsed.error.issues[0]!.path.length === 0 ? [{ path: '', message: 'expected {chain, from, namespace?, packet?}' }] : toFieldIssues(parsed.error)
        throw new ValidationProblemError(`trace: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, issues)
      }
      const { chain, namespace, from, packet } = parsed.data
      const v = view()
      if (!v.trace) throw new SwitchUnavailableError()
      return c.json(await v.trace({ namespace, name: chain }, from, packet))
    },
  )
  return app
}
