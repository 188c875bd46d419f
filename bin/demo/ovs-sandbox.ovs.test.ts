import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from './ovs-sandbox.js'

describe('ovs sandbox', () => {
  let ovs: OvsSandbox
  beforeAll(async () => {
    ovs = await startOvsSandbox()
  })
  afterAll(async () => {
    await ovs?.stop()
  })

  it('runs a private vswitchd that accepts a netdev bridge and flows', async () => {
    await ovs.vsctl('add-br', 'br-t', '--', 'set', 'bridge', 'br-t', 'datapath_type=netdev')
    await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', 'br-t', 'table=0,priority=5,in_port=1,actions=drop')
    const flows = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-t')
    expect(flows).toMatch(/priority=5,in_port=1 actions=drop/)
    expect(ovs.vswitchdPid()).toBeGreaterThan(0)
  })

  it('restarts vswitchd after a kill, losing flows', async () => {
    const before = ovs.vswitchdPid()
    await ovs.killVswitchd()
    await ovs.startVswitchd()
    expect(ovs.vswitchdPid()).not.toBe(before)
    await ovs.vsctl('br-exists', 'br-t')
    const flows = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-t')
    expect(flows).not.toMatch(/priority=5/)
  })
})

describe('clustered ovs sandbox', () => {
  it('elects itself leader and serves transactions', async () => {
    const ovs = await startOvsSandbox({ clustered: true, vswitchd: false })
    try {
      await ovs.vsctl('--no-wait', 'add-br', 'br-c')
      expect((await ovs.vsctl('--no-wait', 'list-br')).trim()).toBe('br-c')
    } finally {
      await ovs.stop()
    }
  })
})
