/**
 * Observed switch state under the appliance's own API group: bridges as vswitchd reports them (ours marked,
 * Interface errors included), installed flows in ovs-ofctl text, and a packet trace through a chain. Read-only;
 * 503 when the appliance runs without OVS.
 */
import { Hono } from 'hono'
import { toFieldIssues } from '../../../api/resources/issues.js'
import { TraceRequestSchema } from '../../../api/trace-request.js'
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
  // The request is checked before the switch is: a malformed packet is a 400 naming the word, never a 503.
  app.post('/appliance/v1/trace', async (c) => {
    const parsed = TraceRequestSchema.safeParse(parseJson(await readBodyText(c)) ?? null)
    if (!parsed.success) {
      const issues = parsed.error.issues.length === 1 && parsed.error.issues[0]!.path.length === 0 ? [{ path: '', message: 'expected {chain, from, namespace?, packet?}' }] : toFieldIssues(parsed.error)
      throw new ValidationProblemError(`trace: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, issues)
    }
    const { chain, namespace, from, packet } = parsed.data
    const v = view()
    if (!v.trace) throw new SwitchUnavailableError()
    return c.json(await v.trace({ namespace, name: chain }, from, packet))
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
