/**
 * Observed switch state under the appliance's own API group: bridges as vswitchd reports them (ours marked,
 * Interface errors included), installed flows in ovs-ofctl text, and a packet trace through a chain. Read-only;
 * 503 when the appliance runs without OVS.
 */
import { Hono } from 'hono'
import type { RestDeps } from '../deps.js'
import type { AppEnv } from '../env.js'
import { SwitchUnavailableError, ValidationProblemError } from '../errors.js'
import { readBodyText } from '../middleware/body-limit/index.js'

export function switchRoutes(deps: RestDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const view = () => {
    if (!deps.switchView) throw new SwitchUnavailableError()
    return deps.switchView
  }
  app.get('/appliance/v1/status', (c) =>
    c.json({
      apiVersion: 'appliance/v1',
      kind: 'ApplianceStatus',
      node: deps.node.name,
      resourceVersion: String(deps.store.resourceVersion()),
      objects: Object.fromEntries(deps.store.objects.countByKind().map((r) => [r.kind, r.count])),
      ...(deps.status?.() ?? {}),
    }),
  )
  app.get('/appliance/v1/bridges', (c) => c.json({ apiVersion: 'appliance/v1', kind: 'BridgeList', items: view().bridges() }))
  app.get('/appliance/v1/flows', async (c) => {
    const v = view()
    if (!v.flows) throw new SwitchUnavailableError()
    const bridge = c.req.query('bridge') || undefined
    return c.json({ apiVersion: 'appliance/v1', kind: 'FlowDump', items: await v.flows(bridge, { stats: c.req.query('stats') === 'true' }) })
  })
  app.get('/appliance/v1/chain-counters', async (c) => {
    const v = view()
    if (!v.counters) throw new SwitchUnavailableError()
    const name = c.req.query('name')
    const chain = name ? { namespace: c.req.query('namespace') || 'default', name } : undefined
    return c.json({ apiVersion: 'appliance/v1', kind: 'ChainCounterList', items: await v.counters(chain) })
  })
  app.post('/appliance/v1/trace', async (c) => {
    const v = view()
    if (!v.trace) throw new SwitchUnavailableError()
    const body = parseJson(await readBodyText(c)) as { namespace?: unknown; chain?: unknown; from?: unknown; packet?: unknown } | undefined
    if (!body || typeof body.chain !== 'string' || typeof body.from !== 'string') {
      throw new ValidationProblemError('trace needs {chain, from, namespace?, packet?}', [{ path: 'chain', message: 'required' }])
    }
    const namespace = typeof body.namespace === 'string' ? body.namespace : 'default'
    const packet = typeof body.packet === 'string' ? body.packet : undefined
    return c.json(await v.trace({ namespace, name: body.chain }, body.from, packet))
  })
  return app
}

/** A JSON body, or undefined when it is not JSON (the caller says what it needed). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
