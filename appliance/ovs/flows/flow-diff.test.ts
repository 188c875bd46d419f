import { describe, expect, it } from 'vitest'
import { apply, applyActions, flow, gotoTable, output, setField } from './builders.js'
import { buildFlowMods, buildFullSync, diffFlows, isEmptyDiff } from './flow-diff.js'
import { BUNDLE_FLAGS, Writer, writeBundledFlowMod } from '../openflow/index.js'
import { KEY_VERSION, buildFlowTable, findFlowConflicts, flowEntryFromWire, flowKey, toFlowEntry, type Flow } from './flow.js'
import { FLOW_CASES } from './testdata/flow-cases.js'
import { FlowsInvalidError } from './errors.js'

const base = [
  flow({ table: 0, priority: 100, cookie: 1n, match: { in_port: 1 }, instructions: apply(output(2)) }),
  flow({ table: 0, priority: 100, cookie: 1n, match: { in_port: 2 }, instructions: apply(output(1)) }),
  flow({ table: 1, priority: 5, cookie: 2n, match: { eth_dst: '02:00:00:00:00:01' }, instructions: apply(output(3)) }),
]

describe('flow keys', () => {
  it('ignore key order, equivalent masks and address spelling', () => {
    const a = flow({ table: 0, priority: 1, match: { eth_type: 0x0800, ipv4_dst: { value: '10.0.0.7', mask: '255.255.255.0' }, in_port: 1 } })
    const b = flow({ table: 0, priority: 1, match: { in_port: 1, ipv4_dst: { value: '10.0.0.0', mask: '255.255.255.0' }, eth_type: 0x0800 } })
    expect(flowKey(toFlowEntry(a).flow)).toBe(flowKey(toFlowEntry(b).flow))
    const c = flow({ table: 0, priority: 1, match: { ipv6_dst: 'FD00:0:0::1' } })
    const d = flow({ table: 0, priority: 1, match: { ipv6_dst: { value: 'fd00::1', mask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' } } })
    expect(toFlowEntry(c).key).toBe(toFlowEntry(d).key)
  })

  it('read from the bytes sent are the keys toFlowEntry computes (one encoding for the wire and the index)', () => {
    const flows: Flow[] = [
      ...FLOW_CASES.map((c) => c.flow),
      // Keys in another order, a mask to normalise, registers (packet-register halves in OF1.5), and
      // instructions out of canonical order (keyed apart from the bytes sent, which kept the caller's order).
      {
        table: 3,
        priority: 7,
        cookie: 5n,
        match: { ipv4_dst: { value: '10.0.0.7', mask: '255.255.255.0' }, reg1: 9, eth_type: 0x0800, reg0: { value: 3, mask: 0xff } },
        instructions: [gotoTable(4), applyActions(setField('reg2', 1))],
      },
      { table: 3, priority: 7, cookie: 5n, match: { in_port: 2 }, instructions: [applyActions(), gotoTable(4)] },
    ]
    const w = new Writer(64)
    for (const f of flows) {
      const from = w.pos
      const s = writeBundledFlowMod(w, KEY_VERSION, 1, 1, BUNDLE_FLAGS, f)
      w.zeros(5) // whatever follows in the stream is not part of the flow
      const byWire = flowEntryFromWire(f, w.buf, s.matchStart, s.instructionsStart, s.end)
      expect(s.matchStart).toBeGreaterThan(from)
      expect(byWire).toEqual(toFlowEntry(f))
    }
    expect(flowEntryFromWire(flows.at(-1)!, w.buf, 0, 0, 0).flow.instructions).toEqual([gotoTable(4)])
    const bad = { ...flows[0]!, table: 255 }
    const s = writeBundledFlowMod(w, KEY_VERSION, 1, 1, BUNDLE_FLAGS, bad)
    expect(() => flowEntryFromWire(bad, w.buf, s.matchStart, s.instructionsStart, s.end)).toThrow(FlowsInvalidError)
  })

  it('differ by table, priority and match; actions and cookie are data', () => {
    const e = toFlowEntry(base[0]!)
    expect(toFlowEntry({ ...base[0]!, table: 1 }).key).not.toBe(e.key)
    expect(toFlowEntry({ ...base[0]!, priority: 101 }).key).not.toBe(e.key)
    expect(toFlowEntry({ ...base[0]!, cookie: 9n }).key).toBe(e.key)
    expect(toFlowEntry({ ...base[0]!, instructions: apply(output(7)) }).actionsKey).not.toBe(e.actionsKey)
  })

  it('canonicalise instruction order and empty action lists', () => {
    const a = toFlowEntry({ ...base[0]!, instructions: [gotoTable(3), applyActions(setField('reg0', 1))] })
    const b = toFlowEntry({ ...base[0]!, instructions: [applyActions(setField('reg0', 1)), gotoTable(3)] })
    expect(a.actionsKey).toBe(b.actionsKey)
    expect(toFlowEntry({ ...base[0]!, instructions: [applyActions()] }).actionsKey).toBe('')
  })

  it('two flows with one key: the later wins (as an ordered bundle of ADDs), and findFlowConflicts names them', () => {
    const later = { ...base[0]!, instructions: apply(output(9)) }
    const table = buildFlowTable([base[0]!, later])
    expect([...table.values()].map((e) => e.flow)).toEqual([later])
    expect(findFlowConflicts([base[0]!, later]).map(([a, b]) => [a.flow, b.flow])).toEqual([[base[0]!, later]])
    expect(findFlowConflicts([base[0]!, { ...base[0]! }, base[1]!])).toEqual([])
  })

  it('rejects flows outside the model (table, priority, cookie ranges)', () => {
    expect(() => toFlowEntry({ ...base[0]!, table: 255 })).toThrowError(FlowsInvalidError)
    expect(() => toFlowEntry({ ...base[0]!, priority: 70000 })).toThrowError(/priority 70000/)
    expect(() => toFlowEntry({ ...base[0]!, cookie: -1n })).toThrowError(/cookie/)
  })
})

describe('diffFlows', () => {
  it('is empty for equal tables', () => {
    expect(isEmptyDiff(diffFlows(buildFlowTable(base), buildFlowTable(base)))).toBe(true)
  })

  it('yields add, modify-strict, delete-strict, and ADD for a cookie change', () => {
    const installed = buildFlowTable(base)
    const desired = buildFlowTable([
      { ...base[0]!, instructions: apply(output(5)) }, // actions changed -> modify
      { ...base[1]!, cookie: 7n }, // cookie changed -> add
      flow({ table: 2, priority: 1, match: { in_port: 9 } }), // new -> add
      // base[2] gone -> remove
    ])
    const d = diffFlows(desired, installed)
    expect(d.modify.map((e) => e.flow.match)).toEqual([{ in_port: 1 }])
    expect(d.add.map((e) => e.flow.match)).toEqual([{ in_port: 2 }, { in_port: 9 }])
    expect(d.remove.map((e) => e.flow.table)).toEqual([1])
    const mods = buildFlowMods(d)
    expect(mods.map((m) => m.command)).toEqual(['delete_strict', 'modify_strict', 'add', 'add'])
    expect(mods[0]).toMatchObject({ table: 1, priority: 5, cookie: 0n, cookieMask: 0n, instructions: [] })
    expect(mods[2]).toMatchObject({ cookie: 7n })
  })

  it('full sync is one delete by cookie mask then every desired flow', () => {
    const mods = buildFullSync(buildFlowTable(base), { cookie: 0xab00n, cookieMask: 0xff00n })
    expect(mods[0]).toMatchObject({ command: 'delete', table: 0xff, cookie: 0xab00n, cookieMask: 0xff00n, match: {} })
    expect(mods.slice(1).map((m) => m.command)).toEqual(['add', 'add', 'add'])
  })

  it('diffs 100k flows with a 1% change into exactly the changed flows (timing lives in bench/)', () => {
    const make = (i: number, port: number) =>
      flow({ table: 0, priority: 100, cookie: 1n, match: { eth_type: 0x0800, ipv4_dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, instructions: apply(output(port)) })
    const installed = buildFlowTable(Array.from({ length: 100_000 }, (_, i) => make(i, 1)))
    const desired = buildFlowTable(Array.from({ length: 100_000 }, (_, i) => make(i, i % 100 === 0 ? 2 : 1)))
    const d = diffFlows(desired, installed)
    expect(d.modify).toHaveLength(1000)
    expect(d.add.length + d.remove.length).toBe(0)
  })
})
