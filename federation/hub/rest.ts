/**
 * The hub's REST API (hono): fleet and per-DPU status with revision phases and lastContact, Prometheus
 * metrics, and health endpoints. Read-only: fleet objects are changed in the source (manifest directory or
 * Kubernetes), never here.
 */
import { Hono } from 'hono'
import type { Condition } from '../../api/meta.js'
import type { DpuRecord } from './hub-db.js'
import type { AgentSession } from './session.js'

/** Where a DPU stands with its desired state, from the hub's point of view. */
export type SyncPhase = 'synced' | 'pending' | 'sent' | 'rejected' | 'offline'

export interface DpuView {
  name: string
  connected: boolean
  labels: Record<string, string>
  phase: SyncPhase
  /** Highest revision minted for this DPU. */
  hubRevision: number
  /** Revision the agent acknowledged (durably stored). */
  ackedRevision: number
  /** Revision sent and not yet acknowledged. */
  inFlightRevision: number | null
  /** The agent's own report: accepted | applying | applied | healthy | rolled-back | failed. */
  agentPhase: string | null
  agentRevision: number | null
  lastContact: string | null
  lastAck: string | null
  lastNack: DpuRecord['lastNack']
  desiredObjects: number | null
  renderIssues: Array<{ object: string; message: string }>
}

export interface HubView {
  dpus(): DpuRecord[]
  session(name: string): AgentSession | undefined
  /** degraded: the hub serves, but some input is held at its last good version (a broken file, a failing watch). */
  ready(): { ready: boolean; reasons: string[]; degraded?: string[] }
  metricsText(): Promise<string>
  metricsContentType: string
  sourceErrors(): Record<string, string>
  /** Conditions the hub keeps on fleet objects (a DPUService's `Rendered`), by object key. */
  objectConditions?(): Record<string, Condition[]>
  /** A source change held for removing too much of some DPU's objects, until confirmed. */
  heldChange(): unknown
  confirm(): boolean
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export function dpuView(rec: DpuRecord, s: AgentSession | undefined): DpuView {
  let phase: SyncPhase = 'offline'
  if (s && s.state === 'ready') {
    if (s.inflight && s.inflight.target.hash !== s.heldHash) phase = 'sent'
    else if (s.failedHash !== null && s.desired?.hash === s.failedHash) phase = 'rejected'
    else phase = s.behind() ? 'pending' : 'synced'
  }
  return {
    name: rec.name,
    connected: s?.state === 'ready',
    labels: rec.labels,
    phase,
    hubRevision: rec.hubRevision,
    ackedRevision: rec.ackedRevision,
    inFlightRevision: s?.inflight && s.inflight.target.hash !== s.heldHash ? s.inflight.revision : null,
    agentPhase: rec.agentPhase,
    agentRevision: rec.agentRevision,
    lastContact: iso(s?.state === 'ready' ? s.lastContact : rec.lastContact),
    lastAck: iso(rec.ackedAt),
    lastNack: rec.lastNack,
    desiredObjects: s?.desired ? s.desired.objects.size : null,
    renderIssues: s?.desired ? [...s.desired.issues] : [],
  }
}

export function createHubApi(hub: HubView): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    const r = hub.ready()
    const degraded = r.degraded ?? []
    // Degraded stays 200: the hub still serves every DPU its last good objects; taking it out would stop that.
    const status = !r.ready ? 'not-ready' : degraded.length > 0 ? 'degraded' : 'ready'
    return c.json({ status, reasons: [...r.reasons, ...degraded] }, r.ready ? 200 : 503)
  })
  app.get('/metrics', async (c) => c.body(await hub.metricsText(), 200, { 'content-type': hub.metricsContentType }))
  app.get('/v1/fleet', (c) => {
    const dpus = hub
      .dpus()
      .map((r) => dpuView(r, hub.session(r.name)))
      .sort((a, b) => a.name.localeCompare(b.name))
    const count = (p: SyncPhase) => dpus.filter((d) => d.phase === p).length
    return c.json({
      summary: {
        total: dpus.length,
        connected: dpus.filter((d) => d.connected).length,
        synced: count('synced'),
        pending: count('pending'),
        sent: count('sent'),
        rejected: count('rejected'),
        offline: count('offline'),
      },
      sourceErrors: hub.sourceErrors(),
      objectConditions: hub.objectConditions?.() ?? {},
      heldChange: hub.heldChange(),
      dpus,
    })
  })
  app.post('/v1/fleet/confirm', (c) => {
    if (!hub.confirm())
      return c.json({ type: 'urn:dpu-appliance:problem:rest.not-found', title: 'Nothing held', status: 404, detail: 'no source change is held', code: 'rest.not-found' }, 404, {
        'content-type': 'application/problem+json',
      })
    return c.json({ confirmed: true })
  })
  app.get('/v1/dpus/:name', (c) => {
    const name = c.req.param('name')
    const rec = hub.dpus().find((r) => r.name === name)
    if (!rec) {
      return c.json({ type: 'urn:dpu-appliance:problem:rest.not-found', title: 'Not found', status: 404, detail: `no DPU named "${name}" has connected to this hub`, code: 'rest.not-found' }, 404, {
        'content-type': 'application/problem+json',
      })
    }
    const s = hub.session(name)
    return c.json({
      ...dpuView(rec, s),
      desired: s?.desired ? [...s.desired.objects.values()].map((o) => ({ key: o.key, hash: o.hash })) : [],
      objectStatus: rec.statusJson ? (JSON.parse(rec.statusJson) as unknown) : [],
    })
  })
  return app
}
