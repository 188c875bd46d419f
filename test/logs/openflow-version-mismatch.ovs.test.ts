/**
 * A bridge the appliance programs is set to `protocols=OpenFlow10` by hand: until the bridges loop restores the
 * column, every reconnect fails version negotiation (we speak OpenFlow 1.4/1.5). The real appliance process
 * repairs the bridge and says so at most once, not once per attempt.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chain, physicalInterface, startChainRig, until, type ChainRig } from '../support/chain-rig.js'

/** Reconnects come every 50-250 ms: this long is dozens of failed handshakes. */
const SAMPLE_MS = 5000

describe('OpenFlow version mismatch on an owned bridge', () => {
  let rig: ChainRig

  beforeAll(async () => {
    rig = await startChainRig()
    await rig.uplink('p0', '10.66.0.1/24')
    await rig.uplink('p1', '10.66.0.2/24')
    await rig.apply([physicalInterface('p0', 'p0', { uplink: 'p0' }), physicalInterface('p1', 'p1', { uplink: 'p1' }), chain('p0-p1', [[{ uplink: 'p0' }, { uplink: 'p1' }]])])
    await rig.waitReady('ServiceChain', ['p0-p1']) // br-sfc has flows, so the appliance holds an OpenFlow connection
  }, 60_000)
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(rig?.tail())
  })
  afterAll(() => rig?.dispose())

  it('restores the protocols and warns at most once, not on every reconnect', async () => {
    const from = rig.app.logs.length
    const openflowWarnings = () =>
      rig.app.logs
        .slice(from)
        .map((l) => JSON.parse(l) as { level: string; bridge?: string; msg: string })
        .filter((l) => l.level === 'warn' && l.bridge === 'br-sfc' && /OpenFlow/.test(l.msg))
    await rig.ovs.vsctl('set', 'bridge', 'br-sfc', 'protocols=OpenFlow10')
    await until('br-sfc protocols restored', async () => ((await rig.ovs.vsctl('get', 'bridge', 'br-sfc', 'protocols')).trim() === '[]' ? true : undefined))
    await rig.waitReady('ServiceChain', ['p0-p1'])
    await new Promise((r) => setTimeout(r, SAMPLE_MS))
    expect(openflowWarnings().length).toBeLessThanOrEqual(1)
  })
})
