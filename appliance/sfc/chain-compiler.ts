/**
 * The chain compiler, incremental: holds this DPU's chains, interfaces and observed ports, and on `compile()`
 * recomputes only what the changes since the last call can affect, returning each bridge's flow delta.
 *
 * What a chain's output depends on, and how a change finds the chains to redo:
 *   - its own spec                     -> `setChain` marks it
 *   - interfaces its selectors match   -> `setInterface` marks the chains in that namespace with a selector pair the
 *                                         interface carries (before or after), and the chains that resolved to it
 *   - ports of interfaces it resolved  -> `setPorts` diffs the observed ports and marks the chains that read them
 *   - which interfaces other chains claimed -> claims are redone for the chains that share an interface,
 *                                         directly or through others, with a redone chain (its claim group: no
 *                                         chain outside it touches those interfaces), and a chain whose claims
 *                                         changed is redone
 * Output equals `compileChains` on the same inputs (tested on random change sequences).
 *
 * Besides chains it holds port wires (`setWires`): two-port patches on one bridge that no chain declares (HBN's
 * service port <-> its patch twin on br-hbn). Their flows share the bridge's desired table, with a cookie of their
 * own per interface, and take no part in resolution or claims.
 */
import { createHash } from 'node:crypto'
import { chainCookie } from './cookie.js'
import type { ChainInput, ChainInterface, ChainReport, DesiredFlow, ObservedPort, PortProblem, PortWire } from './model.js'
import { byClaimOrder, claimInterfaces, emitChain, resolveChain, sortFlows, switchFlows, type ResolvedChain, type ResolvedSwitch, type ResolveContext } from './compile.js'

export interface BridgeDelta {
  /** Flows to drop (only their identity counts); applied before `upsert`. */
  remove: DesiredFlow[]
  upsert: DesiredFlow[]
}

export interface CompileDelta {
  /** Chains (`namespace/name`) whose report or flows changed, including removed ones. */
  changed: Set<string>
  /** Per bridge, the flow changes of the changed chains. */
  bridges: Map<string, BridgeDelta>
}

interface ChainOutput {
  report: ChainReport
  flows: Map<string, DesiredFlow[]>
  /** The claim problems the output was built with, as text: a change means the output must be rebuilt. */
  claims: string
  /**
   * Report and flows as a digest of their text: a redone chain with the same digest is not a change. A digest, not
   * the text: the text of 1,000 chains held ~1.5 MiB of the appliance's heap (issue #13, RSS budget).
   */
  digest: string
}

const outputDigest = (o: { report: ChainReport; flows: Map<string, DesiredFlow[]> }) =>
  createHash('sha256')
    .update(JSON.stringify([o.report, [...o.flows]], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)))
    .digest('base64')

const pairKey = (namespace: string, k: string, v: string) => `${namespace}\u0000${k}\u0000${v}`
/** An empty selector matches every interface of its namespace (the API refuses it; the compiler stays right). */
const anyPair = (namespace: string) => `${namespace}\u0000`

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key)
  if (set) set.add(value)
  else index.set(key, new Set([value]))
}
function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) index.delete(key)
}

export class ChainCompiler {
  readonly #chains = new Map<string, ChainInput>()
  readonly #interfaces = new Map<string, ChainInterface>()
  #ports: ReadonlyMap<string, ObservedPort> = new Map()
  /** Per namespace, its interfaces sorted by name (resolution order); rebuilt when one of them changes. */
  readonly #byNamespace = new Map<string, ChainInterface[]>()
  readonly #staleNamespaces = new Set<string>()
  readonly #resolved = new Map<string, ResolvedChain>()
  readonly #outputs = new Map<string, ChainOutput>()
  /** Interface key -> chains whose resolution read it. */
  readonly #readers = new Map<string, Set<string>>()
  /** `namespace, label, value` -> chains with a selector using that pair. */
  readonly #selectorPairs = new Map<string, Set<string>>()
  /** Interface key -> chains with a switch that resolved to it (who may contest it). */
  readonly #holders = new Map<string, Set<string>>()
  /** Port-in-use problems per switch of the current resolutions (switches without any are absent). */
  readonly #claims = new Map<ResolvedSwitch, PortProblem[]>()
  readonly #dirty = new Set<string>()
  /** Bridge -> how many chains have flows on it, so `bridges()` needs no walk over every chain. */
  readonly #bridgeUsers = new Map<string, number>()
  /** Port wires by interface key, as last given, and the flows each one has now. */
  #wires: ReadonlyMap<string, PortWire> = new Map()
  readonly #wireFlows = new Map<string, { bridge: string; flows: DesiredFlow[] }>()
  readonly #dirtyWires = new Set<string>()

  get chainCount(): number {
    return this.#chains.size
  }

  setChain(key: string, chain: ChainInput | undefined): void {
    const old = this.#chains.get(key)
    if (old) for (const pair of selectorPairs(old)) removeFrom(this.#selectorPairs, pair, key)
    if (chain) {
      this.#chains.set(key, chain)
      for (const pair of selectorPairs(chain)) addTo(this.#selectorPairs, pair, key)
    } else this.#chains.delete(key)
    this.#dirty.add(key)
  }

  setInterface(key: string, iface: ChainInterface | undefined): void {
    const old = this.#interfaces.get(key)
    if (iface) this.#interfaces.set(key, iface)
    else this.#interfaces.delete(key)
    for (const i of [old, iface]) {
      if (!i) continue
      this.#staleNamespaces.add(i.namespace)
      for (const c of this.#selectorPairs.get(anyPair(i.namespace)) ?? []) this.#dirty.add(c)
      for (const [k, v] of Object.entries(i.labels)) for (const c of this.#selectorPairs.get(pairKey(i.namespace, k, v)) ?? []) this.#dirty.add(c)
    }
    for (const c of this.#readers.get(key) ?? []) this.#dirty.add(c)
  }

  /** The observed ports of every interface (a whole snapshot); chains that read a changed one are redone. */
  setPorts(ports: ReadonlyMap<string, ObservedPort>): void {
    const before = this.#ports
    const changed = (key: string) => {
      const a = before.get(key)
      const b = ports.get(key)
      return a?.bridge !== b?.bridge || a?.ofport !== b?.ofport || a?.mac !== b?.mac
    }
    for (const key of ports.keys()) if (changed(key)) for (const c of this.#readers.get(key) ?? []) this.#dirty.add(c)
    for (const key of before.keys()) if (!ports.has(key)) for (const c of this.#readers.get(key) ?? []) this.#dirty.add(c)
    this.#ports = ports
  }

  /** Every port wire (a whole snapshot, by interface key); only changed ones are redone. */
  setWires(wires: ReadonlyMap<string, PortWire>): void {
    const same = (a: PortWire | undefined, b: PortWire | undefined) => a?.bridge === b?.bridge && a?.a === b?.a && a?.b === b?.b
    for (const key of new Set([...this.#wires.keys(), ...wires.keys()])) if (!same(this.#wires.get(key), wires.get(key))) this.#dirtyWires.add(key)
    this.#wires = wires
  }

  #context(): ResolveContext {
    for (const ns of this.#staleNamespaces) {
      const list = [...this.#interfaces.values()].filter((i) => i.namespace === ns).sort((a, b) => a.name.localeCompare(b.name))
      if (list.length > 0) this.#byNamespace.set(ns, list)
      else this.#byNamespace.delete(ns)
    }
    this.#staleNamespaces.clear()
    return { byNamespace: this.#byNamespace, byKey: this.#interfaces, ports: this.#ports }
  }

  /** Recomputes what changed since the last call. */
  compile(): CompileDelta {
    const ctx = this.#context()
    /** Interfaces whose holders changed: the claims of every chain that can reach them are redone. */
    const touched = new Set<string>()
    for (const key of this.#dirty) {
      const old = this.#resolved.get(key)
      if (old) {
        for (const ref of old.refs) removeFrom(this.#readers, ref, key)
        for (const i of heldInterfaces(old)) {
          removeFrom(this.#holders, i, key)
          touched.add(i)
        }
        for (const sw of old.switches) this.#claims.delete(sw)
      }
      const chain = this.#chains.get(key)
      if (!chain) {
        this.#resolved.delete(key)
        continue
      }
      const rc = resolveChain(chain, ctx)
      this.#resolved.set(key, rc)
      for (const ref of rc.refs) addTo(this.#readers, ref, key)
      for (const i of heldInterfaces(rc)) {
        addTo(this.#holders, i, key)
        touched.add(i)
      }
    }
    const group = this.#claimGroup(touched)
    for (const key of group) for (const sw of this.#resolved.get(key)!.switches) this.#claims.delete(sw)
    const ordered = [...group].map((key) => this.#resolved.get(key)!).sort((a, b) => byClaimOrder(a.chain, b.chain))
    for (const [sw, problems] of claimInterfaces(ordered)) this.#claims.set(sw, problems)
    const claims = this.#claims

    const delta: CompileDelta = { changed: new Set(), bridges: new Map() }
    const bridgeDelta = (bridge: string) => {
      let d = delta.bridges.get(bridge)
      if (!d) delta.bridges.set(bridge, (d = { remove: [], upsert: [] }))
      return d
    }
    const retire = (key: string) => {
      const out = this.#outputs.get(key)
      if (!out) return
      for (const [bridge, flows] of out.flows) {
        bridgeDelta(bridge).remove.push(...flows)
        this.#release(bridge)
      }
      this.#outputs.delete(key)
      delta.changed.add(key)
    }
    for (const key of this.#dirty) if (!this.#resolved.has(key)) retire(key)
    for (const key of new Set([...this.#dirty, ...group])) {
      const rc = this.#resolved.get(key)
      if (!rc) continue
      const claimText = claimsText(rc, claims)
      const old = this.#outputs.get(key)
      if (!this.#dirty.has(key) && old?.claims === claimText) continue
      const out = emitChain(rc, claims)
      const digest = outputDigest(out)
      if (old?.digest === digest) {
        old.claims = claimText
        continue
      }
      retire(key)
      this.#outputs.set(key, { ...out, claims: claimText, digest })
      for (const [bridge, flows] of out.flows) {
        bridgeDelta(bridge).upsert.push(...flows)
        this.#bridgeUsers.set(bridge, (this.#bridgeUsers.get(bridge) ?? 0) + 1)
      }
      delta.changed.add(key)
    }
    this.#dirty.clear()
    for (const key of this.#dirtyWires) {
      const old = this.#wireFlows.get(key)
      if (old) {
        bridgeDelta(old.bridge).remove.push(...old.flows)
        this.#release(old.bridge)
        this.#wireFlows.delete(key)
      }
      const wire = this.#wires.get(key)
      if (!wire) continue
      const flows = wireFlows(key, wire)
      this.#wireFlows.set(key, { bridge: wire.bridge, flows })
      bridgeDelta(wire.bridge).upsert.push(...flows)
      this.#bridgeUsers.set(wire.bridge, (this.#bridgeUsers.get(wire.bridge) ?? 0) + 1)
    }
    this.#dirtyWires.clear()
    return delta
  }

  #release(bridge: string): void {
    const users = this.#bridgeUsers.get(bridge)! - 1
    if (users > 0) this.#bridgeUsers.set(bridge, users)
    else this.#bridgeUsers.delete(bridge)
  }

  /**
   * The chains that hold one of `interfaces`, and every chain that shares an interface with one of those, to the
   * end: claims of chains outside this group cannot change, since the claim step only compares holders of one
   * interface.
   */
  #claimGroup(interfaces: Iterable<string>): Set<string> {
    const group = new Set<string>()
    const seen = new Set<string>()
    const queue = [...interfaces]
    while (queue.length > 0) {
      const i = queue.pop()!
      if (seen.has(i)) continue
      seen.add(i)
      for (const key of this.#holders.get(i) ?? []) {
        if (group.has(key)) continue
        group.add(key)
        for (const j of heldInterfaces(this.#resolved.get(key)!)) if (!seen.has(j)) queue.push(j)
      }
    }
    return group
  }

  report(key: string): ChainReport | undefined {
    return this.#outputs.get(key)?.report
  }

  /** Every chain's report, in namespace/name order (as `compileChains`). */
  reports(): ChainReport[] {
    return [...this.#outputs.values()].map((o) => o.report).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
  }

  /** Every desired flow of `bridge` (sorted), for a full sync. */
  flows(bridge: string): DesiredFlow[] {
    const all: DesiredFlow[] = []
    for (const o of this.#outputs.values()) all.push(...(o.flows.get(bridge) ?? []))
    for (const w of this.#wireFlows.values()) if (w.bridge === bridge) all.push(...w.flows)
    return sortFlows(all)
  }

  /** Bridges any chain or wire has flows on. */
  bridges(): Set<string> {
    return new Set(this.#bridgeUsers.keys())
  }
}

function selectorPairs(chain: ChainInput): Set<string> {
  const pairs = new Set<string>()
  for (const sw of chain.switches) {
    for (const port of sw.ports) {
      const entries = Object.entries(port.serviceInterface.matchLabels)
      if (entries.length === 0) pairs.add(anyPair(chain.namespace))
      for (const [k, v] of entries) pairs.add(pairKey(chain.namespace, k, v))
    }
  }
  return pairs
}

/** The interfaces a chain's switches resolved to: what it can contest with other chains. */
function heldInterfaces(rc: ResolvedChain): Set<string> {
  const out = new Set<string>()
  for (const s of rc.switches) for (const i of s.interfaces) if (i !== undefined) out.add(i)
  return out
}

function claimsText(rc: ResolvedChain, claims: ReadonlyMap<unknown, PortProblem[]>): string {
  let text = ''
  for (const s of rc.switches) {
    const p = claims.get(s)
    if (p) text += `${s.index}:${JSON.stringify(p)};`
  }
  return text
}

/**
 * A wire's two flows: a two-port switch, with the cookie of `<namespace>/<name>/hbn-wire` (a chain name has no '/',
 * so it never equals a chain's cookie).
 */
function wireFlows(key: string, wire: PortWire): DesiredFlow[] {
  const slash = key.indexOf('/')
  const cookie = chainCookie(key.slice(0, slash), `${key.slice(slash + 1)}/hbn-wire`)
  return switchFlows(
    [
      { key: `${key}#a`, ofport: wire.a, bridge: wire.bridge },
      { key: `${key}#b`, ofport: wire.b, bridge: wire.bridge },
    ],
    cookie,
  )
}
