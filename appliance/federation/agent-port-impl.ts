/**
 * The appliance side of the federation boundary: `AgentPort` (api/federation/agent-port.ts) over the Store.
 * The agent (federation/agent) calls it; this file never imports federation/.
 *
 * What the hub believes the DPU holds is the object hashes the hub sent, kept verbatim in the meta table
 * (`federation.objectHashes`) and written in the same transaction as the objects and the applied revision,
 * so a crash between commit and ack leaves nothing to re-apply: the next hello reports exactly what is stored.
 *
 * XXX(#5): lastGoodRevision equals the applied revision until the reconcile health window promotes revisions
 * (DESIGN §6); no local rollback exists yet.
 */
import type { AgentPort, AgentStatusReport, AgentSyncState, HubRevisionPush } from '../../api/federation/agent-port.js'
import type { ObjectStatusReport, RevisionPhase } from '../../api/federation/messages.js'
import { ApplianceError } from '../../api/errors.js'
import type { ObjectRef } from '../../api/meta.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { parseObject } from '../../api/resources/registry.js'
import type { LevelLogger } from '../../api/support/log-limit.js'
import type { Store } from '../store/index.js'

export const OBJECT_HASHES_META_KEY = 'federation.objectHashes'

/** `apiVersion/kind/namespace/name`, where apiVersion may itself contain a slash. */
export function refFromKey(key: string): ObjectRef {
  const parts = key.split('/')
  if (parts.length < 4) throw new ApplianceError('federation.protocol', `object key "${key}" is not apiVersion/kind/namespace/name`, { context: { key } })
  const name = parts.pop()!
  const namespace = parts.pop()!
  const kind = parts.pop()!
  return { apiVersion: parts.join('/'), kind, namespace, name }
}

/** Node kinds whose reconcilers (chains, ports, services passes) write a `Ready` condition. */
const READY_REPORTING_KINDS: ReadonlySet<string> = new Set(['ServiceChain', 'ServiceInterface', 'Service'])
/** The kind in a `<group>/<version>/<Kind>/<namespace>/<name>` key. */
const kindOfKey = (key: string): string => key.split('/').at(-3) ?? ''
const keyOf = (o: { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } }): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`

export function createStoreAgentPort(store: Store, opts: { log?: LevelLogger } = {}): AgentPort {
  const readHashes = (): Record<string, string> => {
    const raw = store.meta.get(OBJECT_HASHES_META_KEY)
    return raw ? (JSON.parse(raw) as Record<string, string>) : {}
  }
  const hubObjects = () => store.objects.list().filter((o) => o.metadata.origin === 'hub')

  return {
    readSyncState(): AgentSyncState {
      const revs = store.revisions.read()
      const applied = revs.applied?.revision ?? 0
      const stored = new Set(hubObjects().map(keyOf))
      // Only report what is really stored: a hash without its object would make the hub skip sending it.
      const objectHashes = Object.fromEntries(Object.entries(readHashes()).filter(([k]) => stored.has(k)))
      return { appliedRevision: applied, lastGoodRevision: revs.lastKnownGood?.revision ?? applied, objectHashes }
    },

    commitRevision(push: HubRevisionPush): void {
      const upserts: ParsedObject[] = push.upserts.map((u) => {
        const obj = parseObject(u.object, `hub revision ${push.revision}`)
        if (keyOf(obj) !== u.key) {
          throw new ApplianceError('federation.protocol', `object key "${u.key}" does not match its content (${keyOf(obj)})`, { context: { key: u.key } })
        }
        return obj
      })
      const removals = push.removals.map(refFromKey)
      let takenOver: string[] = []
      store.batch(() => {
        const applied = store.revisions.read().applied?.revision ?? 0
        if (push.revision <= applied) {
          throw new ApplianceError('federation.stale-revision', `revision ${push.revision} is not newer than the applied revision ${applied}`, { context: { revision: push.revision, applied } })
        }
        const result = store.applyHubRevision(push.revision, upserts, removals)
        takenOver = result.applied.filter((r) => r.takenOverFromLocal).map((r) => `${r.ref.kind}/${r.ref.namespace}/${r.ref.name}`)
        const hashes = readHashes()
        for (const k of push.removals) delete hashes[k]
        for (const u of push.upserts) hashes[u.key] = u.hash
        store.meta.set(OBJECT_HASHES_META_KEY, JSON.stringify(hashes))
        store.revisions.set('lastKnownGood', push.revision)
      })
      // Logged once committed: a rolled-back revision replaced nothing.
      if (takenOver.length > 0) {
        opts.log?.warn(
          { revision: push.revision, objects: takenOver },
          `hub revision ${push.revision} replaced ${takenOver.length} local object(s) with the same key: ${takenOver.join(', ')} (the local specs are in TakenOverByHub events)`,
        )
      }
    },

    readStatus(): AgentStatusReport {
      const revision = store.revisions.read().applied?.revision ?? 0
      const objects: ObjectStatusReport[] = hubObjects().map((o) => ({
        key: keyOf(o),
        ...(o.status.phase ? { phase: o.status.phase } : {}),
        conditions: (o.status.conditions ?? []).slice(0, 32).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
      }))
      const ready = (s: ObjectStatusReport) => s.conditions.find((c) => c.type === 'Ready')?.status
      // Only kinds a reconciler reports Ready on decide the phase: a NAD, flavor or IPAM pool is configuration
      // that others read, never Ready by itself, and would hold every revision carrying one at `applying`.
      const decisive = objects.filter((s) => READY_REPORTING_KINDS.has(kindOfKey(s.key)))
      let phase: RevisionPhase = 'applied'
      if (decisive.some((s) => ready(s) === 'False')) phase = 'failed'
      else if (decisive.some((s) => ready(s) !== 'True')) phase = 'applying'
      return { revision, phase, objects }
    },

    onStatusChange(listener: () => void): () => void {
      return store.watch((e) => {
        if (e.object.metadata.origin === 'hub') listener()
      })
    },
  }
}
