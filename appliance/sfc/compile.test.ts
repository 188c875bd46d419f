import { describe, expect, it } from 'vitest'
import { compileChains, desiredMtus } from './compile.js'
import { chainCookie, fnv1a64, formatCookie } from './cookie.js'
import type { ChainInput, ChainInterface, ObservedPort } from './model.js'
import { lintFlow } from './offload-lint.js'
import { describeProblem } from './resolve.js'

const ns = 'dpf'
const iface = (name: string, labels: Record<string, string>, extra: Partial<ChainInterface> = {}): ChainInterface => ({
  namespace: ns,
  name,
  labels,
  ...extra,
})
const chain = (name: string, switches: Array<Array<Record<string, string>>>, serviceMTU?: number): ChainInput => ({
  namespace: ns,
  name,
  generation: 1,
  switches: switches.map((ports) => ({
    ports: ports.map((matchLabels) => ({ serviceInterface: { matchLabels } })),
    ...(serviceMTU ? { serviceMTU } : {}),
  })),
})
const ports = (entries: Array<[string, ObservedPort]>) => new Map(entries.map(([k, v]) => [`${ns}/${k}`, v]))

describe('chain cookie', () => {
  // Known answers from the FNV reference test suite (Landon Curt Noll's test_fnv.c, FNV-1a 64 column); each was
  // checked against a separate implementation before being written down here.
  it.each([
    ['', 0xcbf29ce484222325n],
    ['a', 0xaf63dc4c8601ec8cn],
    ['foobar', 0x85944171f73967e8n],
  ])('FNV-1a 64 of %j is the published value', (input, expected) => {
    expect(fnv1a64(Buffer.from(input, 'utf8'))).toBe(expected)
  })

  it('is FNV-1a 64 of namespace/name, the value DPF gives the same chain', () => {
    // DPF's sfc-controller (internal/sfccontroller/controllers/servicechain_controller.go) sets a chain's cookie to
    // Go's hash/fnv New64a over NamespacedName.String(), i.e. "<namespace>/<name>". The value for the chain of
    // test/fixtures/dpf/dpuservicechain-hbn-to-fabric.yaml was computed with a separate FNV-1a 64 (Python).
    expect(chainCookie('dpf-operator-system', 'hbn-to-fabric')).toBe(0x44e662b6bbb29c1dn)
    expect(formatCookie(chainCookie('dpf-operator-system', 'hbn-to-fabric'))).toBe('0x44e662b6bbb29c1d')
    expect(chainCookie('a', 'b')).toBe(fnv1a64(Buffer.from('a/b')))
    expect(chainCookie('dpf', 'x')).not.toBe(chainCookie('dpf', 'y'))
  })
})

describe('compileChains', () => {
  const interfaces = [iface('p0', { uplink: 'p0' }), iface('fw-in', { svc: 'fw', port: 'in' }), iface('fw-out', { svc: 'fw', port: 'out' }), iface('p1', { uplink: 'p1' })]
  const observed = ports([
    ['p0', { bridge: 'br-sfc', ofport: 1 }],
    ['fw-in', { bridge: 'br-sfc', ofport: 2, mac: '02:00:00:00:00:02' }],
    ['fw-out', { bridge: 'br-sfc', ofport: 3, mac: '02:00:00:00:00:03' }],
    ['p1', { bridge: 'br-sfc', ofport: 4 }],
  ])

  it('makes a two-port switch a patch: exactly one flow each way, with the chain cookie', () => {
    const out = compileChains({ chains: [chain('c1', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }]])], interfaces, ports: observed })
    const flows = out.flows.get('br-sfc')!
    const cookie = chainCookie(ns, 'c1')
    expect(flows).toEqual([
      { table: 0, priority: 100, match: { in_port: 1 }, cookie, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] },
      { table: 0, priority: 100, match: { in_port: 2 }, cookie, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 1, maxLen: 0 }] }] },
    ])
    expect(out.reports[0]!.switches[0]).toMatchObject({ programmed: true, flowCount: 2, ofports: [1, 2], problems: [] })
  })

  it('bump in the wire: two chains through a service, no flow joins p0 and p1 directly', () => {
    const out = compileChains({
      chains: [chain('in', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }]]), chain('out', [[{ svc: 'fw', port: 'out' }, { uplink: 'p1' }]])],
      interfaces,
      ports: observed,
    })
    const flows = out.flows.get('br-sfc')!
    const outputsFrom = (inPort: number) => flows.filter((f) => f.match.in_port === inPort).flatMap((f) => f.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : [])))
    expect(outputsFrom(1)).toEqual([{ type: 'output', port: 2, maxLen: 0 }])
    expect(outputsFrom(4)).toEqual([{ type: 'output', port: 3, maxLen: 0 }])
  })

  it('a three-port switch forwards known MACs, floods broadcast and unknown unicast', () => {
    const out = compileChains({
      chains: [chain('tri', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }, { svc: 'fw', port: 'out' }]])],
      interfaces,
      ports: observed,
    })
    const flows = out.flows.get('br-sfc')!
    const fromP0 = flows.filter((f) => f.match.in_port === 1)
    expect(fromP0.map((f) => [f.priority, f.match])).toEqual([
      [300, { in_port: 1, eth_dst: '02:00:00:00:00:02' }],
      [300, { in_port: 1, eth_dst: '02:00:00:00:00:03' }],
      [200, { in_port: 1, eth_dst: { value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' } }],
      [100, { in_port: 1 }],
    ])
    // Unicast to the uplink's side has no known MAC: it floods (priority 100), never learns.
    expect(flows.filter((f) => f.match.in_port === 2 && f.priority === 300)).toHaveLength(1)
    expect(out.reports[0]!.offloadFindings).toEqual([])
  })

  it('a MAC seen behind two ports gets no unicast flow: it floods, and no two flows share a match', () => {
    const dupMac = new Map(observed)
    dupMac.set(`${ns}/fw-out`, { bridge: 'br-sfc', ofport: 3, mac: '02:00:00:00:00:02' })
    const flows = compileChains({
      chains: [chain('tri', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }, { svc: 'fw', port: 'out' }]])],
      interfaces,
      ports: dupMac,
    }).flows.get('br-sfc')!
    expect(flows.filter((f) => f.priority === 300)).toEqual([])
    const ids = flows.map((f) => `${f.priority}|${JSON.stringify(f.match)}`)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('reports a missing interface and an ambiguous selector, and still programs the other switches', () => {
    const dup = [...interfaces, iface('fw-in-2', { svc: 'fw', port: 'in' })]
    const out = compileChains({
      chains: [
        chain('c', [
          [{ uplink: 'p0' }, { svc: 'fw', port: 'in' }],
          [{ uplink: 'nope' }, { uplink: 'nope2' }],
          [{ svc: 'fw', port: 'out' }, { uplink: 'p1' }],
        ]),
      ],
      interfaces: dup,
      ports: observed,
    })
    const [s0, s1, s2] = out.reports[0]!.switches
    expect(s0!.programmed).toBe(false)
    expect(describeProblem(s0!.problems[0]!)).toMatch(/matches 2 ServiceInterfaces \(dpf\/fw-in, dpf\/fw-in-2\)/)
    expect(s1!.programmed).toBe(false)
    expect(describeProblem(s1!.problems[0]!)).toBe('no ServiceInterface matches {uplink=nope}')
    expect(s2!.programmed).toBe(true)
    expect(out.flows.get('br-sfc')).toHaveLength(2)
  })

  it('refuses an interface used by two switches: the first chain (by name) keeps it', () => {
    const out = compileChains({
      chains: [chain('b', [[{ uplink: 'p0' }, { uplink: 'p1' }]]), chain('a', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }]])],
      interfaces,
      ports: observed,
    })
    expect(out.reports.map((r) => r.name)).toEqual(['a', 'b'])
    expect(out.reports[1]!.switches[0]!.problems).toEqual([{ kind: 'port-in-use', interface: 'dpf/p0', usedBy: 'dpf/a switch 0' }])
  })

  it('lets neither a broken nor a newer chain take an interface from a working one', () => {
    const out = compileChains({
      chains: [
        { ...chain('z-old', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }]]), createdAt: '2026-01-01T00:00:00.000Z' },
        { ...chain('a-new', [[{ uplink: 'p0' }, { uplink: 'p1' }]]), createdAt: '2026-01-02T00:00:00.000Z' },
        { ...chain('a-broken', [[{ svc: 'fw', port: 'in' }, { uplink: 'nope' }]]), createdAt: '2026-01-01T00:00:00.000Z' },
      ],
      interfaces,
      ports: observed,
    })
    const report = (name: string) => out.reports.find((r) => r.name === name)!.switches[0]!
    expect(report('z-old')).toMatchObject({ programmed: true, problems: [] })
    expect(report('a-new').problems).toEqual([{ kind: 'port-in-use', interface: 'dpf/p0', usedBy: 'dpf/z-old switch 0' }])
    expect(report('a-broken').problems).toEqual([
      { kind: 'no-match', selector: 'uplink=nope' },
      { kind: 'port-in-use', interface: 'dpf/fw-in', usedBy: 'dpf/z-old switch 0' },
    ])
    expect(out.flows.get('br-sfc')!.every((f) => f.cookie === chainCookie(ns, 'z-old'))).toBe(true)
  })

  it('waits for ports without an ofport and for ports on another bridge', () => {
    const out = compileChains({
      chains: [chain('c', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }, { uplink: 'p1' }]])],
      interfaces,
      ports: ports([
        ['p0', { bridge: 'br-sfc', ofport: 1 }],
        ['fw-in', { bridge: 'br-sfc', ofport: -1 }],
        ['p1', { bridge: 'br-hbn', ofport: 7 }],
      ]),
    })
    const problems = out.reports[0]!.switches[0]!.problems
    expect(problems).toEqual([
      { kind: 'not-attached', interface: 'dpf/fw-in' },
      { kind: 'bridge-mismatch', interface: 'dpf/p1', bridge: 'br-hbn', expected: 'br-sfc' },
    ])
    expect(out.flows.size).toBe(0)
  })

  it('maps a vlan interface to its parent port with push/pop VLAN above the parent flows', () => {
    const out = compileChains({
      chains: [chain('v', [[{ vlan: '10' }, { svc: 'fw', port: 'in' }]])],
      interfaces: [...interfaces, iface('p0-v10', { vlan: '10' }, { vlan: { vlanId: 10, parent: 'p0' } })],
      ports: observed,
    })
    const flows = out.flows.get('br-sfc')!
    expect(flows[0]).toMatchObject({
      priority: 1100,
      match: { in_port: 1, vlan_vid: 0x1000 | 10 },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'pop_vlan' }, { type: 'output', port: 2, maxLen: 0 }] }],
    })
    expect(flows[1]).toMatchObject({
      priority: 100,
      match: { in_port: 2 },
      instructions: [
        {
          type: 'apply_actions',
          actions: [
            { type: 'push_vlan', ethertype: 0x8100 },
            { type: 'set_field', field: 'vlan_vid', value: 0x1000 | 10 },
            { type: 'output', port: 1, maxLen: 0 },
          ],
        },
      ],
    })
  })

  it('is deterministic regardless of input order', () => {
    const chains = [chain('x', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }, { svc: 'fw', port: 'out' }]]), chain('y', [[{ uplink: 'p1' }, { uplink: 'p0' }]])]
    const a = compileChains({ chains, interfaces, ports: observed })
    const b = compileChains({ chains: [...chains].reverse(), interfaces: [...interfaces].reverse(), ports: observed })
    expect(b.flows).toEqual(a.flows)
  })

  it('gives serviceMTU to every resolved port of the switch', () => {
    const mtus = desiredMtus({ chains: [chain('m', [[{ uplink: 'p0' }, { svc: 'fw', port: 'in' }]], 9000)], interfaces, ports: observed })
    expect([...mtus]).toEqual([
      ['dpf/p0', 9000],
      ['dpf/fw-in', 9000],
    ])
  })
})

describe('lintFlow', () => {
  it('accepts output/VLAN flows and flags controller, group and non-header rewrites', () => {
    expect(lintFlow({ match: { in_port: 1, eth_dst: '02:00:00:00:00:01' }, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] })).toEqual([])
    expect(
      lintFlow({
        match: { in_port: 1 },
        instructions: [
          {
            type: 'apply_actions',
            actions: [
              { type: 'output', port: 0xfffffffd, maxLen: 128 },
              { type: 'group', groupId: 9 },
            ],
          },
        ],
      }),
    ).toEqual(['output to CONTROLLER becomes a userspace datapath action', 'group 9: select groups need dp_hash, which mlx5 does not offload'])
  })
})
