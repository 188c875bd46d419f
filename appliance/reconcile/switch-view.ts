/**
 * What the REST API shows of the switch (`SwitchView`): observed bridges, installed flows in ovs-ofctl text (with
 * counters on request), per-chain counters, and `ofproto/trace` of a sample packet entering a chain at one of its
 * ports. Read-only: flows are read with flow-stats requests on the programmer's OpenFlow connection (or a
 * one-shot connection for a bridge we do not program), traces go to ovs-vswitchd's control socket.
 */
import { join } from 'node:path'
import type { StoredObject } from '../../api/meta.js'
import type { OvsNode } from '../node/ovs-node.js'
import { tracePacketProblem } from '../../api/trace-request.js'
import { DEFAULT_TRACE_PACKET, resolveVswitchdCtl, runOfprotoTrace } from '../ovs/appctl/index.js'
import { renderInstructions, renderMatch } from '../ovs/flows/index.js'
import { OpenFlowConnection, readFlowStats, type FlowStatsEntry } from '../ovs/openflow/index.js'
import { chainCookie, formatCookie } from '../sfc/cookie.js'
import { StoreNotFoundError, type Store } from '../store/index.js'
import { computeChainCounters, readCookieCounters } from './chain-counters.js'
import type { NodeController } from './controller.js'
import { readNodeObjects } from './node-objects.js'
import { readObservedInterfaces } from './ports.js'
import { BadPacketError, TracePortError, UnknownBridgeError } from './switch-view-errors.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'

export interface SwitchViewDeps {
  store: Store
  ovs: OvsNode
  controller: NodeController
  nodeName: string
  /** Where `<bridge>.mgmt` and the vswitchd pid file / control socket are. */
  rundir: string
  /** ovs-vswitchd's unixctl socket, if not found from the rundir. */
  ovsCtl?: string
}

/** One flow-stats entry as `ovs-ofctl dump-flows` prints it (counters only with `stats`). */
export function renderFlowStats(f: FlowStatsEntry, stats: boolean): string {
  const match = renderMatch(f.match)
  const parts = [`cookie=${formatCookie(f.cookie)}`]
  if (stats) parts.push(`duration=${f.durationSec}.${String(Math.floor(f.durationNsec / 1e6)).padStart(3, '0')}s`)
  parts.push(`table=${f.table}`)
  if (stats) parts.push(`n_packets=${f.packetCount}`, `n_bytes=${f.byteCount}`)
  if (f.idleTimeout) parts.push(`idle_timeout=${f.idleTimeout}`)
  if (f.hardTimeout) parts.push(`hard_timeout=${f.hardTimeout}`)
  return `${parts.join(', ')}, priority=${f.priority}${match ? `,${match}` : ''} actions=${renderInstructions(f.instructions)}`
}

function parseSelector(text: string): Record<string, string> | undefined {
  if (!text.includes('=')) return undefined
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    const i = part.indexOf('=')
    if (i <= 0) return undefined
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  return out
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)

export function createSwitchView(deps: SwitchViewDeps) {
  const { store, ovs, controller } = deps

  async function withConnection<T>(bridge: string, fn: (conn: OpenFlowConnection) => Promise<T>): Promise<T> {
    const shared = ovs.openflow(bridge)
    if (shared?.connected) return fn(shared)
    // A bridge we do not program (or whose connection is re-dialling): a one-shot read-only connection.
    const conn = new OpenFlowConnection({ socketPath: join(deps.rundir, `${bridge}.mgmt`), asyncMessages: false }).start()
    try {
      await conn.waitConnected(3000)
      return await fn(conn)
    } finally {
      await conn.close()
    }
  }

  function chainObject(namespace: string, name: string): StoredObject {
    const ref = { apiVersion: SVC, kind: 'ServiceChain', namespace, name }
    const chain = store.objects.get(ref)
    if (!chain) throw new StoreNotFoundError(ref)
    return chain
  }

  return {
    bridges: () => controller.observedBridges() as unknown as ReadonlyArray<Record<string, unknown>>,

    async flows(bridge: string | undefined, opts: { stats: boolean }) {
      const cache = ovs.ovsdb?.cache
      const owned = controller
        .observedBridges()
        .filter((b) => b.owned)
        .map((b) => b.name)
      let bridges: string[]
      if (bridge !== undefined) {
        if (!cache?.bridge(bridge)) throw new UnknownBridgeError(bridge)
        bridges = [bridge]
      } else bridges = [...new Set([...owned, ...ovs.bridgesWithProgrammers()])].sort()
      return Promise.all(
        bridges.map(async (b) => {
          const entries = await withConnection(b, (conn) => readFlowStats(conn))
          entries.sort((x, y) => x.table - y.table || y.priority - x.priority)
          return { bridge: b, flows: entries.map((f) => renderFlowStats(f, opts.stats)) }
        }),
      )
    },

    /** Counters of every chain (or one), read from the switch now. */
    async counters(chain?: { namespace: string; name: string }) {
      const chains = chain ? [chainObject(chain.namespace, chain.name)] : readNodeObjects(store, deps.nodeName).chains
      const counters = computeChainCounters(chains, await readCookieCounters(ovs))
      return chains.map((c) => ({
        namespace: c.metadata.namespace,
        name: c.metadata.name,
        cookie: formatCookie(chainCookie(c.metadata.namespace, c.metadata.name)),
        ...counters.get(`${c.metadata.namespace}/${c.metadata.name}`)!,
      }))
    },

    async trace(chain: { namespace: string; name: string }, from: string, packet: string | undefined) {
      const obj = chainObject(chain.namespace, chain.name)
      const sample = packet ?? DEFAULT_TRACE_PACKET
      const problem = tracePacketProblem(sample)
      if (problem) throw new BadPacketError(sample, problem)
      const report = controller.lastChains?.report(`${chain.namespace}/${chain.name}`)
      if (!report) throw new TracePortError(`chain ${chain.namespace}/${chain.name} has not been compiled yet`, { chain: `${chain.namespace}/${chain.name}` })
      // FROM is a ServiceInterface (name or namespace/name) or the port's selector (`k=v[,k=v]`).
      const selector = parseSelector(from)
      const spec = obj.spec as { switches: Array<{ ports: Array<{ serviceInterface: { matchLabels: Record<string, string> } }> }> }
      let hit: { sw: number; port: number } | undefined
      for (const s of report.switches) {
        s.interfaces.forEach((iface, i) => {
          if (hit) return
          const byName = iface !== undefined && (iface === from || iface === `${chain.namespace}/${from}`)
          const labels = spec.switches[s.index]?.ports[i]?.serviceInterface.matchLabels
          if (byName || (selector && labels && sameLabels(selector, labels))) hit = { sw: s.index, port: i }
        })
      }
      const ports = report.switches.flatMap((s) => s.interfaces.filter((x): x is string => x !== undefined))
      if (!hit) throw new TracePortError(`"${from}" is not a port of chain ${chain.namespace}/${chain.name} (ports: ${ports.join(', ') || 'none resolved'})`, { from })
      const sw = report.switches.find((s) => s.index === hit!.sw)!
      const ofport = sw.ofports[hit.port]
      const iface = sw.interfaces[hit.port]
      if (ofport === undefined || ofport <= 0 || !sw.bridge) {
        throw new TracePortError(`port ${iface ?? from} of chain ${chain.namespace}/${chain.name} has no ofport yet`, { from, interface: iface })
      }
      const flow = `in_port=${ofport},${sample}`
      const result = await runOfprotoTrace(resolveVswitchdCtl(deps.rundir, deps.ovsCtl), sw.bridge, flow)
      // The OpenFlow outputs along the path, on whichever bridge each step ran (patches cross to br-hbn), named by
      // the interfaces we own: an HBN interface has a port on each side.
      const byOfport = new Map<string, string>()
      const at = (bridge: string, port: number) => `${bridge}\0${port}`
      const cache = ovs.ovsdb?.cache
      if (cache) {
        for (const [key, o] of readObservedInterfaces(cache)) {
          if (o.bridge && o.ofport !== undefined) byOfport.set(at(o.bridge, o.ofport), key)
          if (o.hbn?.ofport !== undefined) byOfport.set(at(o.hbn.bridge, o.hbn.ofport), key)
        }
      }
      const outputs = result.steps.flatMap((s) =>
        s.actions.flatMap((a) => {
          const m = /^output:(\d+)$/.exec(a) ?? /^in_port$/.exec(a)
          if (!m) return []
          const bridge = s.bridge || sw.bridge!
          const port = m[1] === undefined ? ofport : Number(m[1])
          return [{ bridge, ofport: port, interface: byOfport.get(at(bridge, port)) ?? null }]
        }),
      )
      return {
        apiVersion: 'appliance/v1',
        kind: 'ChainTrace',
        chain: `${chain.namespace}/${chain.name}`,
        from: { interface: iface, bridge: sw.bridge, ofport, switch: sw.index },
        flow,
        steps: result.steps,
        outputs,
        datapathActions: result.datapathActions,
        dropped: result.datapathActions.length === 0 || (result.datapathActions.length === 1 && result.datapathActions[0] === 'drop'),
        text: result.text,
      }
    },
  }
}
