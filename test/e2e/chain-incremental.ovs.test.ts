/**
 * Incremental reconcile on a real switch: a change to one chain sends only that chain's flow changes (in one
 * bundle), an ofport change touches only the flows that name the port, the periodic verify (every second here)
 * repairs drift by re-reading the switch (a foreign flow goes, a deleted flow comes back, a modified flow is put
 * back) without touching the flows that are right, and garbage collection removes owned ports nobody wants while
 * leaving foreign ports alone; a chain whose interfaces arrive after it, or leave by a label change, follows them
 * from their store events alone. "Untouched" is checked by flow durations: a re-added flow restarts at 0 s.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chain, linkMac, physicalInterface, serviceInterface, startChainRig, until, type ChainRig, type DumpedFlow } from '../support/chain-rig.js'
import { createVethPair, exec } from '../../bin/demo/netns.js'

interface InstalledLine {
  added: number
  modified: number
  removed: number
}

describe('incremental reconcile, periodic verify and garbage collection', () => {
  let rig: ChainRig
  const cookies: Record<string, string> = {}
  const uplinks = ['p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']

  const logLines = (from: number, msg: string) =>
    rig.app.logs
      .slice(from)
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  const ofChain = (flows: DumpedFlow[], name: string) => flows.filter((f) => f.cookie === cookies[name])
  /**
   * Every flow of `names` is the same flow as in `before` and kept counting (not re-added). `before` was dumped
   * before `sinceMs` and the new dump starts after `elapsedS` is taken, so the switch's own clock moved at least
   * that much between the two dumps however loaded the machine is (1 ms: dump-flows prints milliseconds).
   */
  const untouched = async (before: DumpedFlow[], names: string[], sinceMs: number) => {
    const elapsedS = (performance.now() - sinceMs) / 1000
    const now = await rig.flows()
    for (const name of names) {
      const was = new Map(ofChain(before, name).map((f) => [f.stable, f]))
      const is = ofChain(now, name)
      expect(is.map((f) => f.stable).sort(), name).toEqual([...was.keys()].sort())
      for (const f of is) expect(f.durationS, `${name}: ${f.stable}`).toBeGreaterThanOrEqual(was.get(f.stable)!.durationS + elapsedS - 0.001)
    }
  }

  beforeAll(async () => {
    rig = await startChainRig({ appOptions: { extraArgs: ['--verify-interval', '1'] } })
    for (const p of uplinks) await createVethPair(rig.cleanup, { name: p, netns: rig.ovs.netns, peer: `${p}x`, peerNetns: rig.ovs.netns })
    await rig.apply([
      ...uplinks.map((p) => physicalInterface(p, p, { uplink: p })),
      chain('c-a', [[{ uplink: 'p2' }, { uplink: 'p3' }]]),
      chain('c-b', [[{ uplink: 'p4' }, { uplink: 'p5' }]]),
      chain('c-c', [[{ uplink: 'p6' }, { uplink: 'p7' }]]),
    ])
    await rig.waitReady('ServiceInterface', uplinks)
    await rig.waitReady('ServiceChain', ['c-a', 'c-b', 'c-c'])
    for (const c of ['c-a', 'c-b', 'c-c']) cookies[c] = (await rig.get('ServiceChain', c))!.status.cookie as string
    await until('6 flows', async () => (await rig.flows()).length === 6)
  }, 60_000)
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(rig?.tail(80))
  })
  afterAll(() => rig?.dispose())

  it("sends only the changed chain's flows, in one bundle", async () => {
    const before = await rig.flows()
    const since = performance.now()
    // A flow re-added during the change would restart its duration near 0 s: give the untouched ones a lead
    // that a re-add could not fake (this wait sets up the check; it asserts nothing about speed).
    await sleep(1100)
    const counters = await rig.flowCounters()
    await rig.apply([chain('c-b', [[{ uplink: 'p4' }, { uplink: 'p8' }]])])
    await until('c-b reprogrammed', async () => {
      const c = await rig.get('ServiceChain', 'c-b')
      return c?.status.observedGeneration === 2 && c.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')
    })
    // Every pass the change could cause has run once the barrier is installed; then count what was sent.
    await rig.settle()
    const after = await rig.flowCounters()
    // in_port=p4 now outputs to p8 (modify), in_port=p5 goes, in_port=p8 comes: 3 changes, one bundle.
    expect(after.batches - counters.batches).toBe(1)
    expect({ added: after.added - counters.added, modified: after.modified - counters.modified, removed: after.removed - counters.removed }).toEqual({ added: 1, modified: 1, removed: 1 })
    await untouched(before, ['c-a', 'c-c'], since)
    expect(ofChain(await rig.flows(), 'c-b')).toHaveLength(2)
  })

  it('updates only the flows that name a port whose ofport changed', async () => {
    const before = await rig.flows()
    const since = performance.now()
    const oldOfport = (await rig.get('ServiceInterface', 'p6'))!.status.ofport as number
    const counters = await rig.flowCounters()
    await rig.ovs.vsctl('set', 'Interface', 'p6', 'ofport_request=60')
    await until('c-c follows the new ofport', async () => ofChain(await rig.flows(), 'c-c').some((f) => f.match.includes('in_port=60')))
    expect(oldOfport).not.toBe(60)
    await rig.settle()
    const after = await rig.flowCounters()
    // in_port=p6 -> p7 is re-keyed (remove + add), in_port=p7 -> p6 gets new actions (modify).
    expect({ added: after.added - counters.added, modified: after.modified - counters.modified, removed: after.removed - counters.removed }).toEqual({ added: 1, modified: 1, removed: 1 })
    await untouched(before, ['c-a', 'c-b'], since)
    expect(logLines(0, 'flow drift found; re-reading the switch')).toEqual([])
  })

  it('removes a foreign flow on the next verify and leaves the rest untouched', async () => {
    const before = await rig.flows()
    const since = performance.now()
    const logsAt = rig.app.logs.length
    await rig.ovs.ofctl('add-flow', 'br-sfc', 'cookie=0x1234,table=0,priority=5,in_port=1,actions=drop')
    // No "it is there" dump here: on a loaded machine the 1 s verify can remove it before a dump returns. The
    // drift log below (extra: 1) is the proof the appliance saw it.
    await until('foreign flow removed', async () => !(await rig.flows()).some((f) => f.cookie === '0x1234'), 5000)
    const drift = logLines(logsAt, 'flow drift found; re-reading the switch')
    expect(drift[0]).toMatchObject({ bridge: 'br-sfc', extra: 1, missing: 0, changed: 0 })
    expect(logLines(logsAt, 'flow drift repaired')[0]).toMatchObject({ added: 0, modified: 0, removed: 1 })
    await untouched(before, ['c-a', 'c-b', 'c-c'], since)
  })

  it('puts back a deleted flow and a modified flow, and only those', async () => {
    const before = await rig.flows()
    const since = performance.now()
    const logsAt = rig.app.logs.length
    const victim = ofChain(before, 'c-a')[0]!
    const inPort = /in_port=(\d+)/.exec(victim.match)![1]
    await rig.ovs.ofctl('--strict', 'del-flows', 'br-sfc', `priority=${victim.priority},in_port=${inPort}`)
    const changed = ofChain(before, 'c-c')[0]!
    const cInPort = /in_port=(\d+)/.exec(changed.match)![1]
    await rig.ovs.ofctl('--strict', 'mod-flows', 'br-sfc', `priority=${changed.priority},in_port=${cInPort},actions=drop`)
    await until(
      'both repaired',
      async () => {
        const now = await rig.flows()
        return ofChain(now, 'c-a').length === 2 && ofChain(now, 'c-c').every((f) => f.actions !== 'drop')
      },
      5000,
    )
    const drift = logLines(logsAt, 'flow drift found; re-reading the switch')
    const total = drift.reduce((n, d) => n + Number(d.missing) + Number(d.changed) + Number(d.extra), 0)
    expect(total).toBe(2)
    const repaired = logLines(logsAt, 'flow drift repaired')
    expect(repaired.reduce((n, r) => n + Number(r.added) + Number(r.modified) + Number(r.removed), 0)).toBe(2)
    await untouched(before, ['c-b'], since)
    expect((await rig.flows()).map((f) => f.stable).sort()).toEqual(before.map((f) => f.stable).sort())
  })

  it('removes a foreign flow added while the appliance was down when it starts again (adopt path, no verify)', async () => {
    await rig.app.stop()
    await rig.ovs.ofctl('add-flow', 'br-sfc', 'cookie=0x4321,table=0,priority=6,in_port=2,actions=drop')
    const before = (await rig.flows()).filter((f) => f.cookie !== '0x4321')
    const since = performance.now()
    await rig.restartApp({ extraArgs: ['--verify-interval', '0'] })
    await until('foreign flow removed', async () => !(await rig.flows()).some((f) => f.cookie === '0x4321'))
    await until('the batch is logged', async () => logLines(0, 'flows installed').length > 0)
    const batches = logLines(0, 'flows installed') as unknown as InstalledLine[]
    expect(batches).toHaveLength(1)
    expect(batches[0]).toMatchObject({ added: 0, modified: 0, removed: 1 })
    await untouched(before, ['c-a', 'c-b', 'c-c'], since)
  })

  it('removes owned ports nobody wants (and their veths), never foreign ones', async () => {
    const svc = rig.serviceNetns('d')
    await rig.apply([serviceInterface('svc-d', { serviceId: 'd', ifName: 'eth1', netns: svc, labels: { svc: 'd' } })])
    await rig.waitReady('ServiceInterface', ['svc-d'])
    const port = (await rig.get('ServiceInterface', 'svc-d'))!.status.port as string
    expect(await linkMac(svc, 'eth1')).toBeDefined()
    // A port that looks like ours but no object wants (left over from a crash), and a foreign one.
    await rig.ovs.vsctl(
      'add-port',
      'br-sfc',
      'p8x',
      '--',
      'set',
      'Port',
      'p8x',
      'external_ids:owner=dpu-appliance',
      '--',
      'set',
      'Interface',
      'p8x',
      'external_ids:owner=dpu-appliance',
      'external_ids:dpf-id=default/long-gone',
    )
    await rig.ovs.vsctl('add-port', 'br-sfc', 'p7x')
    await rig.delete('ServiceInterface', ['svc-d'])
    await until('svc-d port and leftover gone', async () => {
      const ports = (await rig.ovs.vsctl('list-ports', 'br-sfc')).split('\n')
      return !ports.includes(port) && !ports.includes('p8x')
    })
    await until('svc-d veth gone', async () => (await linkMac(svc, 'eth1')) === undefined)
    const outer = await exec(rig.ovs.netns, 'ip', ['-o', 'link', 'show']).then((r) => r.stdout)
    expect(outer).not.toContain(port)
    expect((await rig.ovs.vsctl('list-ports', 'br-sfc')).split('\n')).toContain('p7x')
  })
  it('programs a chain applied before its interfaces once they arrive, and drops it when a label moves away', async () => {
    for (const q of ['q1', 'q2']) await createVethPair(rig.cleanup, { name: q, netns: rig.ovs.netns, peer: `${q}x`, peerNetns: rig.ovs.netns })
    await rig.apply([chain('c-late', [[{ uplink: 'q1' }, { uplink: 'q2' }]])])
    const chainState = async () => {
      const c = await rig.get('ServiceChain', 'c-late')
      return { ready: c?.status.conditions?.find((x) => x.type === 'Ready'), cookie: c?.status.cookie as string | undefined }
    }
    await until('c-late reports its unresolved selectors', async () => (await chainState()).ready?.reason === 'PortsUnresolved')
    const others = (await rig.flows()).length

    // The interfaces come after the chain: their store events alone must bring the chain to Ready.
    await rig.apply([physicalInterface('q1', 'q1', { uplink: 'q1' }), physicalInterface('q2', 'q2', { uplink: 'q2' })])
    await until('c-late Ready', async () => (await chainState()).ready?.status === 'True')
    const { cookie } = await chainState()
    await until('c-late flows installed', async () => (await rig.flows()).filter((f) => f.cookie === cookie).length === 2)

    // Relabelling q2 away from the selector unresolves the chain and removes exactly its flows.
    await rig.apply([physicalInterface('q2', 'q2', { uplink: 'elsewhere' })])
    await until('c-late unresolved again', async () => (await chainState()).ready?.reason === 'PortsUnresolved')
    await until('c-late flows gone', async () => (await rig.flows()).filter((f) => f.cookie === cookie).length === 0)
    expect((await rig.flows()).length).toBe(others)
  })
})
