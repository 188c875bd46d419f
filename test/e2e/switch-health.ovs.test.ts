/**
 * Readiness and status tell the truth about the switch, with real packets. The appliance runs with the periodic
 * verify off (`--verify-interval 0`), so anything restored here was restored by the event that caused the loss:
 *   - ovs-vswitchd killed: `/readyz` answers 503 naming the OpenFlow connections, `dpuctl status` says so, the
 *     chain's Ready turns False (SwitchDisconnected); after the restart all three recover with no API call.
 *   - `fail_mode` changed by hand on br-sfc (OVS drops the bridge's flows): fail_mode and the flows come back and
 *     traffic resumes.
 *   - `protocols=OpenFlow10` set by hand (the appliance speaks 1.4/1.5 and is locked out): put back, the
 *     connection returns, the flows come back.
 * Times are printed for the record; the assertions are about outcomes (budgets live in bench/).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runDpuctl } from '../support/appliance-process.js'
import { ping } from '../../bin/demo/netns.js'
import { chain, physicalInterface, serviceInterface, startChainRig, until, type ChainRig, type Uplink } from '../support/chain-rig.js'
import { exec } from '../../bin/demo/netns.js'

describe('switch health: readiness, status and chain conditions follow ovs-vswitchd (real packets)', () => {
  let rig: ChainRig
  let up: Uplink

  const readyz = async () => {
    const res = await fetch(`${rig.app.url}/readyz`)
    return { status: res.status, body: (await res.json()) as { ok: boolean; checks: Array<{ name: string; ok: boolean; message?: string }> } }
  }
  const pingOk = async (count = 3) => (await ping(up.netns, '10.80.0.2', { count, interval: 0.2, timeoutS: 3 })).received === count
  const since = (t0: number) => `${Math.round(performance.now() - t0)} ms`

  beforeAll(async () => {
    rig = await startChainRig({ appOptions: { extraArgs: ['--verify-interval', '0'] } })
    up = await rig.uplink('p0', '10.80.0.1/24')
    const ns = rig.serviceNetns('hl')
    await rig.apply([
      physicalInterface('p0', 'p0', { uplink: 'p0' }),
      serviceInterface('svc', { serviceId: 'hl', ifName: 'eth1', netns: ns, labels: { svc: 'hl' } }),
      chain('c1', [[{ uplink: 'p0' }, { svc: 'hl' }]]),
    ])
    await until('service interface', async () => (await exec(ns, 'ip', ['link', 'show', 'eth1']).catch(() => undefined)) !== undefined)
    await exec(ns, 'ip', ['addr', 'add', '10.80.0.2/24', 'dev', 'eth1'])
    await rig.waitReady('ServiceChain', ['c1'], 30_000)
    await until('ping through the chain', () => pingOk(), 15_000)
  })
  afterEach(({ task }) => {
    if (rig && task.result?.state === 'fail') console.error(rig.tail())
  })
  afterAll(() => rig?.dispose())

  it('is not ready while ovs-vswitchd is gone, and recovers on its own', async () => {
    expect((await readyz()).status).toBe(200)
    const t0 = performance.now()
    await rig.ovs.killVswitchd()
    console.log(`ovs-vswitchd gone ${since(t0)} after SIGKILL`)
    const down = await until('readyz 503', async () => {
      const r = await readyz()
      return r.status === 503 ? r : undefined
    })
    console.log(`readyz 503 ${since(t0)} after kill -9 of ovs-vswitchd`)
    const openflow = down.body.checks.find((c) => c.name === 'openflow')
    expect(openflow?.ok).toBe(false)
    expect(openflow?.message).toMatch(/br-sfc/)
    const status = await runDpuctl(['status'], { env: rig.app.clientEnv })
    expect(status.stdout).toMatch(/^OpenFlow: .*br-sfc NOT connected/m)
    const cond = await until('chain not Ready', async () => {
      const c = await rig.ready('ServiceChain', 'c1')
      return c?.status === 'False' ? c : undefined
    })
    expect(cond.reason).toBe('SwitchDisconnected')
    expect(cond.message).toMatch(/br-sfc/)

    const t1 = performance.now()
    await rig.ovs.startVswitchd()
    await until('readyz 200', async () => (await readyz()).status === 200, 20_000)
    console.log(`readyz 200 ${since(t1)} after ovs-vswitchd started again`)
    await rig.waitReady('ServiceChain', ['c1'], 20_000)
    expect((await rig.ready('ServiceChain', 'c1'))?.reason).toBe('FlowsInstalled')
    expect((await runDpuctl(['status'], { env: rig.app.clientEnv })).stdout).toMatch(/^OpenFlow: .*br-sfc connected/m)
    await until('ping through the chain after the restart', () => pingOk(), 15_000)
  })

  it('puts fail_mode back and restores the flows OVS dropped with it', async () => {
    expect(await rig.flows()).toHaveLength(2)
    const t0 = performance.now()
    await rig.ovs.vsctl('set', 'bridge', 'br-sfc', 'fail_mode=standalone')
    await until('fail_mode secure again', async () => (await rig.ovs.vsctl('get', 'bridge', 'br-sfc', 'fail_mode')).trim() === 'secure')
    await until('flows back', async () => (await rig.flows()).length === 2)
    console.log(`fail_mode edit: flows back ${since(t0)} after the edit`)
    await until('ping resumes', () => pingOk(), 15_000)
    await rig.waitReady('ServiceChain', ['c1'])
  })

  it('puts protocols back when they lock the appliance out, reconnects and restores the flows', async () => {
    const t0 = performance.now()
    await rig.ovs.vsctl('set', 'bridge', 'br-sfc', 'protocols=OpenFlow10')
    await until('protocols restored', async () => (await rig.ovs.vsctl('get', 'bridge', 'br-sfc', 'protocols')).trim() === '[]')
    await until('flows back', async () => (await rig.flows()).length === 2)
    console.log(`protocols edit: flows back ${since(t0)} after the edit`)
    await until('ping resumes', () => pingOk(), 15_000)
    await until('readyz 200', async () => (await readyz()).status === 200)
    // Someone's own choice that still includes a version we speak is left alone.
    await rig.ovs.vsctl('set', 'bridge', 'br-sfc', 'protocols=OpenFlow13,OpenFlow15')
    await until('flows back after the second edit', async () => (await rig.flows()).length === 2)
    await until('ping resumes again', () => pingOk(), 15_000)
    expect((await rig.ovs.vsctl('get', 'bridge', 'br-sfc', 'protocols')).trim()).toBe('[OpenFlow13, OpenFlow15]')
  })
})
