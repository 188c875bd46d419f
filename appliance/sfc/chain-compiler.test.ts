import { describe, expect, it } from 'vitest'
import { ChainCompiler, type CompileDelta } from './chain-compiler.js'
import { compileChains } from './compile.js'
import { chainCookie } from './cookie.js'
import type { ChainInput, ChainInterface, DesiredFlow, ObservedPort } from './model.js'

/** Deterministic PRNG (mulberry32), so a failing sequence replays. */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const flowId = (f: DesiredFlow) => `${f.table}|${f.priority}|${JSON.stringify(f.match)}`
const flowText = (f: DesiredFlow) => JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))

/** A flow table kept only from deltas, as a flow programmer's desired table is. */
function applyDelta(tables: Map<string, Map<string, DesiredFlow>>, delta: CompileDelta): void {
  for (const [bridge, d] of delta.bridges) {
    const t = tables.get(bridge) ?? new Map<string, DesiredFlow>()
    for (const f of d.remove) t.delete(flowId(f))
    for (const f of d.upsert) t.set(flowId(f), f)
    tables.set(bridge, t)
  }
}

describe('ChainCompiler', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('matches compileChains after every step of a random change sequence (seed %i)', (seed) => {
    const rand = rng(seed)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
    const namespaces = ['a', 'b']
    const names = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'v0']
    const bridges = ['br-sfc', 'br-hbn']
    const chains = new Map<string, ChainInput>()
    const interfaces = new Map<string, ChainInterface>()
    let ports = new Map<string, ObservedPort>()
    const compiler = new ChainCompiler()
    const tables = new Map<string, Map<string, DesiredFlow>>()
    let clock = 0
    const exercised = { flows: 0, problems: 0, inUse: 0 }
    // Mostly one interface per selector; sometimes none, two (ambiguous), or one another chain holds.
    const selector = (): Record<string, string> => ({ id: pick(names.slice(0, 6)), ...(rand() < 0.2 ? { side: pick(['l', 'r']) } : {}) })
    // Ofports are unique per interface (as vswitchd's are per bridge) but can change: 1..12, then +100, +200.
    const portKeys = namespaces.flatMap((n) => names.slice(0, 6).map((m) => `${n}/${m}`))

    for (let step = 0; step < 300; step++) {
      const op = rand()
      const ns = pick(namespaces)
      if (op < 0.3) {
        const name = `c${Math.floor(rand() * 6)}`
        const key = `${ns}/${name}`
        if (chains.has(key) && rand() < 0.25) {
          chains.delete(key)
          compiler.setChain(key, undefined)
        } else {
          const old = chains.get(key)
          const c: ChainInput = {
            namespace: ns,
            name,
            generation: (old?.generation ?? 0) + 1,
            createdAt: old?.createdAt ?? `2026-01-01T00:00:${String(clock++ % 60).padStart(2, '0')}Z`,
            switches: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({
              ports: Array.from({ length: 2 + Math.floor(rand() * 2) }, () => ({ serviceInterface: { matchLabels: selector() } })),
            })),
          }
          chains.set(key, c)
          compiler.setChain(key, c)
        }
      } else if (op < 0.65) {
        const name = pick(names)
        const key = `${ns}/${name}`
        if (interfaces.has(key) && rand() < 0.25) {
          interfaces.delete(key)
          compiler.setInterface(key, undefined)
        } else {
          const i: ChainInterface = {
            namespace: ns,
            name,
            labels: { id: rand() < 0.8 ? name : pick(names.slice(0, 6)), ...(rand() < 0.3 ? { side: pick(['l', 'r']) } : {}) },
            ...(name === 'v0' ? { vlan: { vlanId: 10 + Math.floor(rand() * 3), parent: pick(names.slice(0, 6)) } } : {}),
          }
          interfaces.set(key, i)
          compiler.setInterface(key, i)
        }
      } else {
        // A new snapshot of observed ports: some move bridge, lose their ofport or change MAC.
        const next = new Map(ports)
        for (let n = 0; n < 3; n++) {
          const key = pick(portKeys)
          const r = rand()
          if (r < 0.2) next.delete(key)
          else
            next.set(key, {
              bridge: pick(bridges),
              ...(r < 0.9 ? { ofport: 1 + portKeys.indexOf(key) + 100 * Math.floor(rand() * 3) } : {}),
              ...(rand() < 0.5 ? { mac: `02:00:00:00:00:0${Math.floor(rand() * 9)}` } : {}),
            })
        }
        ports = next
        compiler.setPorts(ports)
      }
      if (rand() < 0.3 && step < 299) continue // changes pile up between compiles, as between loop passes

      const delta = compiler.compile()
      applyDelta(tables, delta)
      const full = compileChains({ chains: [...chains.values()], interfaces: [...interfaces.values()], ports })
      expect(compiler.reports()).toEqual(full.reports)
      exercised.flows += [...full.flows.values()].reduce((n, l) => n + l.length, 0)
      exercised.problems += full.reports.filter((r) => r.switches.some((sw) => sw.problems.length > 0)).length
      exercised.inUse += full.reports.filter((r) => r.switches.some((sw) => sw.problems.some((p) => p.kind === 'port-in-use'))).length
      expect(compiler.bridges()).toEqual(new Set([...full.flows].filter(([, flows]) => flows.length > 0).map(([bridge]) => bridge)))
      for (const bridge of bridges) {
        const want = (full.flows.get(bridge) ?? []).map(flowText)
        expect(compiler.flows(bridge).map(flowText)).toEqual(want)
        expect([...(tables.get(bridge)?.values() ?? [])].map(flowText).sort()).toEqual([...want].sort())
      }
    }
    // The sequence reached programmed chains, broken ones and contested interfaces, not only empty output.
    expect(exercised.flows).toBeGreaterThan(0)
    expect(exercised.problems).toBeGreaterThan(0)
    expect(exercised.inUse).toBeGreaterThan(0)
  })

  it('redoes only the chain that changed, and a second compile with no change reports nothing', () => {
    const compiler = new ChainCompiler()
    const ports = new Map<string, ObservedPort>()
    for (let i = 0; i < 100; i++) {
      for (const end of ['a', 'b']) {
        compiler.setInterface(`ns/i${i}${end}`, { namespace: 'ns', name: `i${i}${end}`, labels: { chain: String(i), end } })
        ports.set(`ns/i${i}${end}`, { bridge: 'br-sfc', ofport: 2 * i + (end === 'a' ? 1 : 2) })
      }
      compiler.setChain(`ns/c${i}`, {
        namespace: 'ns',
        name: `c${i}`,
        generation: 1,
        switches: [{ ports: [{ serviceInterface: { matchLabels: { chain: String(i), end: 'a' } } }, { serviceInterface: { matchLabels: { chain: String(i), end: 'b' } } }] }],
      })
    }
    compiler.setPorts(ports)
    expect(compiler.compile().changed.size).toBe(100)
    expect(compiler.compile().changed.size).toBe(0)

    // c7's second port moves to c9's interface. Both are equally old, so claim order is by name: c7 wins it.
    compiler.setChain('ns/c7', {
      namespace: 'ns',
      name: 'c7',
      generation: 2,
      switches: [{ ports: [{ serviceInterface: { matchLabels: { chain: '7', end: 'a' } } }, { serviceInterface: { matchLabels: { chain: '9', end: 'b' } } }] }],
    })
    const delta = compiler.compile()
    // c9 loses its switch: both change, nobody else.
    expect([...delta.changed].sort()).toEqual(['ns/c7', 'ns/c9'])
    expect(delta.bridges.get('br-sfc')!.upsert).toHaveLength(2)
    expect(delta.bridges.get('br-sfc')!.remove).toHaveLength(4)
    expect(compiler.report('ns/c9')!.switches[0]!.problems).toEqual([{ kind: 'port-in-use', interface: 'ns/i9b', usedBy: 'ns/c7 switch 0' }])

    // One port's MAC changes: a two-port chain has no MAC flows, so nothing changes; an ofport change redoes its reader.
    ports.set('ns/i3a', { bridge: 'br-sfc', ofport: 7, mac: '02:00:00:00:00:01' })
    compiler.setPorts(new Map(ports))
    expect([...compiler.compile().changed]).toEqual([])
    ports.set('ns/i3a', { bridge: 'br-sfc', ofport: 70 })
    compiler.setPorts(new Map(ports))
    expect([...compiler.compile().changed]).toEqual(['ns/c3'])
  })

  it('wires an HBN port to its patch twin with two flows of its own cookie, redone only when the wire changes', () => {
    const compiler = new ChainCompiler()
    compiler.setWires(new Map([['ns/p0-sf', { bridge: 'br-hbn', a: 3, b: 4 }]]))
    const first = compiler.compile()
    expect(first.changed.size).toBe(0) // wires are not chains: no status to write
    const upsert = first.bridges.get('br-hbn')!.upsert
    expect(upsert.map((f) => [f.priority, f.match, f.instructions])).toEqual([
      [100, { in_port: 3 }, [{ type: 'apply_actions', actions: [{ type: 'output', port: 4, maxLen: 0 }] }]],
      [100, { in_port: 4 }, [{ type: 'apply_actions', actions: [{ type: 'output', port: 3, maxLen: 0 }] }]],
    ])
    // FNV-1a 64 of "ns/p0-sf/hbn-wire": never a chain's cookie, since chain names have no '/'.
    expect(new Set(upsert.map((f) => f.cookie))).toEqual(new Set([chainCookie('ns', 'p0-sf/hbn-wire')]))
    expect(compiler.bridges()).toEqual(new Set(['br-hbn']))
    expect(compiler.flows('br-hbn')).toHaveLength(2)

    compiler.setWires(new Map([['ns/p0-sf', { bridge: 'br-hbn', a: 3, b: 4 }]]))
    expect(compiler.compile().bridges.size).toBe(0)
    compiler.setWires(new Map([['ns/p0-sf', { bridge: 'br-hbn', a: 3, b: 9 }]]))
    const moved = compiler.compile().bridges.get('br-hbn')!
    expect([moved.remove.length, moved.upsert.length]).toEqual([2, 2])
    compiler.setWires(new Map())
    expect(compiler.compile().bridges.get('br-hbn')!.remove).toHaveLength(2)
    expect(compiler.bridges().size).toBe(0)
    expect(compiler.flows('br-hbn')).toEqual([])
  })
})
