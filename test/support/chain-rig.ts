/**
 * A real-packet service-chaining rig for e2e tests: one private OVS sandbox (vswitchd in its own netns), one
 * appliance process driving it, "uplinks" (a veth whose OVS end lives in vswitchd's netns and whose peer sits
 * in an external namespace with an address), and service namespaces named through the `dpu.appliance/netns`
 * annotation so parallel test files never collide. The REST API is called directly (fetch with the bearer
 * token): spawning `dpuctl` costs about a second per call, too slow for timing checks.
 *
 * Everything is registered with one `Cleanup`; `dispose()` undoes it all, also after a failed test.
 */
import { rmSync } from 'node:fs'
import { startApplianceProcess, type ApplianceProcess, type ApplianceProcessOptions } from './appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'

export const SVC = 'svc.dpu.nvidia.com/v1alpha1'
const NETNS_ANNOTATION = 'dpu.appliance/netns'

export interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
}

export interface ObjectView {
  metadata: { name: string; namespace: string; generation: number; labels?: Record<string, string> }
  spec: Record<string, unknown>
  status: { phase?: string; conditions?: Condition[]; [k: string]: unknown }
}

import { until } from './until.js'

export { until }

/** One flow as `ovs-ofctl dump-flows` prints it, with the parts tests look at. */
export interface DumpedFlow {
  line: string
  cookie: string
  priority: number
  /** Match part (without table/priority), e.g. `in_port=3,dl_dst=...`. */
  match: string
  actions: string
  durationS: number
  packets: number
  /** The line without its counters (duration, packets, bytes, ages): equal for an untouched flow. */
  stable: string
}

export function parseFlows(dump: string): DumpedFlow[] {
  return dump
    .split('\n')
    .filter((l) => l.includes('cookie='))
    .map((line) => {
      const l = line.trim()
      const actionsAt = l.indexOf(' actions=')
      const head = l.slice(0, actionsAt)
      const actions = l.slice(actionsAt + ' actions='.length)
      const fields = head.split(', ')
      const last = fields[fields.length - 1]!.split(' ').pop()!
      const prio = /priority=(\d+)/.exec(last)
      return {
        line: l,
        cookie: /cookie=(0x[0-9a-f]+)/.exec(l)![1]!,
        priority: prio ? Number(prio[1]) : 32768,
        match: last.replace(/^priority=\d+,?/, ''),
        actions,
        durationS: Number(/duration=([\d.]+)s/.exec(l)?.[1] ?? 0),
        packets: Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0),
        stable: l.replace(/(duration|n_packets|n_bytes|idle_age|hard_age)=[^, ]+,? ?/g, '').trim(),
      }
    })
}

export interface Uplink {
  /** Name of the OVS-side end (what a `physical` ServiceInterface names). */
  name: string
  /** External namespace holding the peer. */
  netns: string
  peer: string
  ip: string
}

export interface ChainRig {
  ovs: OvsSandbox
  app: ApplianceProcess
  cleanup: Cleanup
  /** A token unique to this test process, for names. */
  tag: string
  /** POST /apis/appliance/v1/apply with these objects (all-or-nothing). */
  apply(docs: unknown[]): Promise<void>
  /** POST /apis/appliance/v1/apply expecting a refusal; resolves the HTTP status and problem body. */
  applyRaw(docs: unknown[]): Promise<{ status: number; body: Record<string, unknown> }>
  delete(kind: 'ServiceChain' | 'ServiceInterface' | 'DPUServiceNAD', names: string[]): Promise<void>
  get(kind: 'ServiceChain' | 'ServiceInterface' | 'DPUServiceNAD', name: string): Promise<ObjectView | undefined>
  ready(kind: 'ServiceChain' | 'ServiceInterface', name: string): Promise<Condition | undefined>
  waitReady(kind: 'ServiceChain' | 'ServiceInterface', names: string[], timeoutMs?: number): Promise<void>
  flows(bridge?: string): Promise<DumpedFlow[]>
  /** A veth "uplink": OVS end `name` in vswitchd's netns, peer in a fresh namespace with `ip`. */
  uplink(name: string, ip: string): Promise<Uplink>
  /** A service namespace (deleted at cleanup), named after this process. */
  serviceNetns(short: string): string
  /** Restart the appliance over the same data directory. */
  restartApp(opts?: Partial<ApplianceProcessOptions>): Promise<void>
  /**
   * A barrier on the chains loop: writes a chain that selects nothing (a new spec each call) with
   * `?wait=installed`, which answers once a chains pass that read this write, and so every store change before
   * it, has had its flows confirmed by a barrier reply on every bridge. "Nothing else happened" is then read
   * from counters, not waited for.
   */
  settle(): Promise<void>
  /** The appliance's flow counters from /metrics (dpu_appliance_flow_batches_total, _flow_mods_total) for a bridge. */
  flowCounters(bridge?: string): Promise<FlowCounters>
  /** The last `n` appliance log lines (for failure output). */
  tail(n?: number): string
  dispose(): Promise<void>
}

export interface FlowCounters {
  batches: number
  added: number
  modified: number
  removed: number
}

/** Sums the samples of `name` whose labels include every `labels` pair, from Prometheus text. */
export function metricSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]))
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3])
  }
  return sum
}

const PLURAL = { ServiceChain: 'servicechains', ServiceInterface: 'serviceinterfaces', DPUServiceNAD: 'dpuservicenads' } as const

export async function startChainRig(opts: { appOptions?: Partial<ApplianceProcessOptions> } = {}): Promise<ChainRig> {
  const cleanup = new Cleanup()
  const tag = process.pid.toString(36)
  let settles = 0
  let ovs: OvsSandbox | undefined
  let app: ApplianceProcess | undefined
  try {
    ovs = await startOvsSandbox()
    const sandbox = ovs
    cleanup.defer('ovs sandbox', () => sandbox.stop())
    const appOpts = (): ApplianceProcessOptions => ({ ...opts.appOptions, ovs: { dbRemote: sandbox.dbRemote, rundir: sandbox.rundir, netns: sandbox.netns } })
    app = await startApplianceProcess(appOpts())
    let current = app
    cleanup.defer('appliance', () => current.dispose())

    const call = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${current.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${current.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
      })
      const text = await res.text()
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
    }
    const rig: ChainRig = {
      ovs: sandbox,
      get app() {
        return current
      },
      cleanup,
      tag,
      async apply(docs) {
        const r = await call('POST', '/apis/appliance/v1/apply', JSON.stringify(docs))
        if (r.status !== 200) throw new Error(`apply: HTTP ${r.status}: ${JSON.stringify(r.body)}`)
      },
      applyRaw: (docs) => call('POST', '/apis/appliance/v1/apply', JSON.stringify(docs)),
      async delete(kind, names) {
        const docs = names.map((name) => ({ apiVersion: SVC, kind, metadata: { name } }))
        const r = await call('POST', '/apis/appliance/v1/delete', JSON.stringify(docs))
        if (r.status !== 200) throw new Error(`delete: HTTP ${r.status}: ${JSON.stringify(r.body)}`)
      },
      async get(kind, name) {
        const r = await call('GET', `/apis/${SVC}/namespaces/default/${PLURAL[kind]}/${name}`)
        return r.status === 200 ? (r.body as unknown as ObjectView) : undefined
      },
      async ready(kind, name) {
        return (await rig.get(kind, name))?.status.conditions?.find((c) => c.type === 'Ready')
      },
      async waitReady(kind, names, timeoutMs = 15_000) {
        await until(
          `${kind} ${names.join(', ')} Ready`,
          async () => {
            for (const n of names) if ((await rig.ready(kind, n))?.status !== 'True') return false
            return true
          },
          timeoutMs,
        )
      },
      async flows(bridge = 'br-sfc') {
        return parseFlows(await sandbox.ofctl('-O', 'OpenFlow15', 'dump-flows', bridge))
      },
      async uplink(name, ip) {
        const ns = await createNetns(cleanup, 'tn')
        await createVethPair(cleanup, { name, netns: sandbox.netns, peer: 'ext0', peerNetns: ns, addr: ip, disableOffloads: true })
        return { name, netns: ns, peer: 'ext0', ip: ip.split('/')[0]! }
      },
      serviceNetns(short) {
        const name = `s${short}-${tag}`
        cleanup.netns(name)
        return name
      },
      async restartApp(more = {}) {
        const dataDir = current.dataDir
        await current.stop()
        // A process started over a given directory leaves it in place: remove it at cleanup ourselves.
        cleanup.defer(`appliance data ${dataDir}`, async () => rmSync(dataDir, { recursive: true, force: true }))
        current = await startApplianceProcess({ ...appOpts(), ...more, dataDir })
      },
      async settle() {
        settles++
        const barrier = chain(`settle-${tag}`, [[{ 'settle-barrier': `${settles}` }, { 'settle-barrier': `${settles}-peer` }]])
        const r = await call('POST', '/apis/appliance/v1/apply?wait=installed&timeoutMs=30000', JSON.stringify([barrier]))
        const flows = r.body.flows as { installed?: boolean } | undefined
        if (r.status !== 200 || flows?.installed !== true) throw new Error(`settle barrier not installed: HTTP ${r.status}: ${JSON.stringify(r.body)}`)
      },
      async flowCounters(bridge = 'br-sfc') {
        // /metrics sits behind the token (issue #14); a refused scrape must fail loudly, not read as zero counters.
        const res = await fetch(`${current.url}/metrics`, { headers: { authorization: `Bearer ${current.token}` } })
        const text = await res.text()
        if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}: ${text.slice(0, 200)}`)
        const mods = (op: string) => metricSum(text, 'dpu_appliance_flow_mods_total', { bridge, op })
        return { batches: metricSum(text, 'dpu_appliance_flow_batches_total', { bridge }), added: mods('added'), modified: mods('modified'), removed: mods('removed') }
      },
      tail(n = 60) {
        return current.logs.slice(-n).join('\n')
      },
      async dispose() {
        // The appliance first: while it runs it re-creates a service namespace the cleanup just deleted
        // (deleting the namespace removes the veth, and the ports pass puts both back).
        await current.stop().catch(() => undefined)
        await cleanup.run()
      },
    }
    return rig
  } catch (err) {
    await cleanup.run().catch(() => undefined)
    throw err
  }
}

/** A `physical` ServiceInterface for an uplink netdev. */
export function physicalInterface(name: string, netdev: string, labels: Record<string, string>): unknown {
  return { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name, labels }, spec: { interfaceType: 'physical', physical: { interfaceName: netdev } } }
}

/** A `service` ServiceInterface whose veth's inner end `ifName` lands in namespace `netns`. */
export function serviceInterface(name: string, o: { serviceId: string; ifName: string; netns: string; labels: Record<string, string>; network?: string }): unknown {
  return {
    apiVersion: SVC,
    kind: 'ServiceInterface',
    metadata: { name, labels: o.labels, annotations: { [NETNS_ANNOTATION]: o.netns } },
    spec: { interfaceType: 'service', service: { serviceID: o.serviceId, network: o.network ?? 'mybrsfc', interfaceName: o.ifName } },
  }
}

/** A ServiceChain: each switch is a list of label selectors, one per port. */
export function chain(name: string, switches: Array<Array<Record<string, string>>>): unknown {
  return {
    apiVersion: SVC,
    kind: 'ServiceChain',
    metadata: { name },
    spec: { switches: switches.map((ports) => ({ ports: ports.map((matchLabels) => ({ serviceInterface: { matchLabels } })) })) },
  }
}

/** MAC of `dev` in `netns`, or undefined if it does not exist. */
export async function linkMac(netns: string, dev: string): Promise<string | undefined> {
  try {
    const r = await exec(netns, 'ip', ['-j', 'link', 'show', 'dev', dev])
    return (JSON.parse(r.stdout) as Array<{ address: string }>)[0]?.address
  } catch {
    return undefined
  }
}
