/**
 * ovs-vswitchd killed (SIGKILL, as on a crash) and started again: the flow table comes back empty, ports come
 * back from OVSDB, and the appliance restores its flows on the OpenFlow reconnect with no API call. We measure
 * the time from vswitchd's start to the first ping through the chain, and the appliance's own figure (from the
 * OpenFlow reconnect to the barrier reply of the restoring bundle).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chain, physicalInterface, serviceInterface, startChainRig, until, type ChainRig, type Uplink } from '../support/chain-rig.js'
import { exec, ping } from '../../bin/demo/netns.js'

describe('ovs-vswitchd restart (real packets)', () => {
  let rig: ChainRig
  let ext: Uplink
  let svc: string

  const restoredLogs = (from: number) =>
    rig.app.logs
      .slice(from)
      .filter((l) => l.includes('flows restored after OpenFlow reconnect'))
      .map((l) => JSON.parse(l) as { bridge: string; flows: number; ms: number })
  const pingOnce = async () => (await ping(ext.netns, '10.63.0.2', { count: 1, interval: 0.2, timeoutS: 1 })).received === 1

  beforeAll(async () => {
    rig = await startChainRig()
    ext = await rig.uplink('p0', '10.63.0.1/24')
    svc = rig.serviceNetns('a')
    await rig.apply([
      physicalInterface('p0', 'p0', { uplink: 'p0' }),
      serviceInterface('svc-a', { serviceId: 'a', ifName: 'eth1', netns: svc, labels: { svc: 'a' } }),
      chain('up-a', [[{ uplink: 'p0' }, { svc: 'a' }]]),
    ])
    await rig.waitReady('ServiceInterface', ['p0', 'svc-a'])
    await rig.waitReady('ServiceChain', ['up-a'])
    await exec(svc, 'ip', ['addr', 'add', '10.63.0.2/24', 'dev', 'eth1'])
    await until('ping through the chain', pingOnce)
  }, 60_000)
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(rig?.tail())
  })
  afterAll(() => rig?.dispose())

  it('restores flows and traffic after a crash without any API call', async () => {
    const before = (await rig.flows()).map((f) => f.stable).sort()
    expect(before).toHaveLength(2)
    const logsAt = rig.app.logs.length
    await rig.ovs.killVswitchd()
    expect((await ping(ext.netns, '10.63.0.2', { count: 2, interval: 0.2, timeoutS: 1 })).received).toBe(0)

    const startedAt = performance.now()
    await rig.ovs.startVswitchd()
    const daemonAt = performance.now()
    await until('ping after the restart', pingOnce, 15_000, 10)
    const pingAt = performance.now()
    const restored = await until('restore logged', async () => restoredLogs(logsAt).find((r) => r.bridge === 'br-sfc'))
    console.log(
      `vswitchd restart: daemon up ${Math.round(daemonAt - startedAt)} ms after start; first ping through the chain ` +
        `${Math.round(pingAt - startedAt)} ms after start; appliance restored ${restored.flows} flows ${Math.round(restored.ms)} ms after its OpenFlow reconnect`,
    )
    expect(restored.flows).toBe(2)
    // Same flows as before (vswitchd kept the ofports it had, so even the port numbers match).
    expect((await rig.flows()).map((f) => f.stable).sort()).toEqual(before)
    expect((await ping(ext.netns, '10.63.0.2', { count: 10, interval: 0.02, timeoutS: 2 })).received).toBe(10)
  })

  it('installs what changed while vswitchd was down', async () => {
    const logsAt = rig.app.logs.length
    await rig.ovs.killVswitchd()
    // While the switch is away, the chain goes and comes back as another one.
    await rig.delete('ServiceChain', ['up-a'])
    await rig.apply([chain('up-a2', [[{ uplink: 'p0' }, { svc: 'a' }]])])
    await rig.ovs.startVswitchd()
    await until('ping after the restart', pingOnce, 15_000, 10)
    await until('restore logged', async () => restoredLogs(logsAt).length > 0)
    await rig.waitReady('ServiceChain', ['up-a2'])
    const cookie = (await rig.get('ServiceChain', 'up-a2'))!.status.cookie as string
    const flows = await rig.flows()
    expect(flows).toHaveLength(2)
    for (const f of flows) expect(f.cookie).toBe(cookie)
  })
})
