/**
 * DPF's own HBN+OVN manifests, unchanged, on a standalone appliance with real packets: the DPUServiceInterfaces
 * (uplinks p0/p1, HBN's SFs on br-hbn through the built-in NAD mybrhbn, the OVN patch) and the `hbn-to-fabric` and
 * `ovn-to-hbn` DPUServiceChains. Each HBN interface gets DPF's patch pair (p<rep>brhbn <-> p<rep>brsfc) and the
 * chains reach HBN through its br-sfc side; a stand-in for HBN (the service namespace, addressed by the test) then
 * answers pings from behind p0 and p1. The fleet objects' Ready rolls up their rendered chains.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { REPO_ROOT, runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec, ping } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { parseFlows, until, type ObjectView } from '../support/chain-rig.js'

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'dpf')
const NS = 'dpf-operator-system'

describe("DPF's hbn-to-fabric and ovn-to-hbn chains on the HBN port model (real packets)", () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  let extA: string
  let extB: string
  const prefix = `hb${process.pid.toString(36)}-`
  const hbnNetns = `${prefix}svc-doca-hbn`

  const dpuctl = async (args: string[]) => {
    const r = await runDpuctl(args, { env: app.clientEnv })
    expect(r.code, `dpuctl ${args.join(' ')}: ${r.stderr}`).toBe(0)
    return r.stdout
  }
  // Polls read the REST API directly: a dpuctl process per poll costs a second or more on a loaded machine.
  const PLURALS: Record<string, string> = { dsc: 'dpuservicechains', sc: 'servicechains', si: 'serviceinterfaces' }
  const get = async (kind: string, name: string): Promise<ObjectView> => {
    const res = await fetch(`${app.url}/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/${NS}/${PLURALS[kind]}/${name}`, { headers: { authorization: `Bearer ${app.token}` } })
    expect(res.status, `GET ${kind} ${name}`).toBe(200)
    return (await res.json()) as ObjectView
  }
  const ready = (o: ObjectView) => o.status.conditions?.find((c) => c.type === 'Ready')

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    extA = await createNetns(cleanup, 'tn')
    extB = await createNetns(cleanup, 'tn')
    await createVethPair(cleanup, { name: 'p0', netns: ovs.netns, peer: 'ext0', peerNetns: extA, addr: '10.78.0.1/24', disableOffloads: true })
    await createVethPair(cleanup, { name: 'p1', netns: ovs.netns, peer: 'ext1', peerNetns: extB, addr: '10.79.0.1/24', disableOffloads: true })
    cleanup.netns(hbnNetns)
    app = await startApplianceProcess({
      ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
      extraArgs: ['--service-netns-prefix', prefix],
    })
    cleanup.defer('appliance', () => app.dispose())
  })
  afterEach(({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-40).join('\n'))
  })
  afterAll(() => cleanup.run())

  it('is NotReady with the chain reason while an HBN interface is missing', async () => {
    await dpuctl(['apply', '-f', join(FIXTURES, 'dpuservicechain-hbn-to-fabric.yaml')])
    const dsc = await until('fleet object rolls up its chain', async () => {
      const o = await get('dsc', 'hbn-to-fabric')
      return ready(o)?.reason === 'PortsUnresolved' ? o : undefined
    })
    expect(ready(dsc)).toMatchObject({ status: 'False', reason: 'PortsUnresolved' })
    expect(ready(dsc)!.message).toContain('ServiceChain dpf-operator-system/hbn-to-fabric')
    expect(dsc.status.numberApplied).toBe(1)
    expect(dsc.status.numberReady).toBe(0)
  })

  it('wires HBN ports through patch pairs, programs the chains and passes pings to the HBN stand-in', { timeout: 180_000 }, async () => {
    await dpuctl(['apply', '-f', join(FIXTURES, 'dpuserviceinterfaces.yaml'), '-f', join(FIXTURES, 'dpuservicechain-ovn-to-hbn.yaml')])
    await until('HBN interfaces in the HBN namespace', async () => (await exec(hbnNetns, 'ip', ['link', 'show', 'p1_if']).catch(() => undefined)) !== undefined)
    await exec(hbnNetns, 'ip', ['addr', 'add', '10.78.0.2/24', 'dev', 'p0_if'])
    await exec(hbnNetns, 'ip', ['addr', 'add', '10.79.0.2/24', 'dev', 'p1_if'])

    for (const name of ['hbn-to-fabric', 'ovn-to-hbn']) {
      await until(`${name} Ready`, async () => ready(await get('dsc', name))?.status === 'True', 60_000)
      expect(ready(await get('sc', name))).toMatchObject({ status: 'True', reason: 'FlowsInstalled' })
    }
    const dsc = await get('dsc', 'hbn-to-fabric')
    expect(dsc.status).toMatchObject({ numberApplied: 1, numberReady: 1 })

    // DPF's keys on both sides of each HBN patch pair.
    const p0sf = await get('si', 'p0-sf')
    const rep = p0sf.status.port as string
    expect(p0sf.status).toMatchObject({ bridge: 'br-hbn', chainPort: { bridge: 'br-sfc', port: `p${rep}brsfc` } })
    const values = async (...args: string[]) =>
      (await ovs.vsctl('get', ...args))
        .trim()
        .split('\n')
        .map((v) => v.replace(/^"(.*)"$/, '$1'))
    expect(await values('Interface', `p${rep}brhbn`, 'external_ids:hbn_rep_ofport', 'external_ids:hbn_netdev', 'options:peer')).toEqual([rep, 'p0_if', `p${rep}brsfc`])
    expect(await values('Interface', `p${rep}brsfc`, 'external_ids:dpf-id', 'external_ids:iface-id', 'options:peer')).toEqual([`${NS}/p0-sf`, rep, `p${rep}brhbn`])
    expect((await ovs.vsctl('list-ports', 'br-hbn')).split('\n')).toEqual(expect.arrayContaining([rep, `p${rep}brhbn`]))

    // br-sfc: two 2-port switches (hbn-to-fabric) and one (ovn-to-hbn); br-hbn: a wire per HBN interface.
    const sfcFlows = parseFlows(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc'))
    expect(sfcFlows).toHaveLength(6)
    const hbnFlows = parseFlows(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-hbn'))
    expect(hbnFlows).toHaveLength(6)

    expect((await ping(extA, '10.78.0.2', { count: 3, interval: 0.2, timeoutS: 3 })).received).toBe(3)
    expect((await ping(extB, '10.79.0.2', { count: 3, interval: 0.2, timeoutS: 3 })).received).toBe(3)

    // The trace from p0 leaves br-sfc by the patch and br-hbn by HBN's own port.
    const trace = JSON.parse(await dpuctl(['trace', 'hbn-to-fabric', '-n', NS, '--from', 'p0', '-o', 'json'])) as { dropped: boolean; steps: Array<{ bridge: string }> }
    expect(trace.dropped).toBe(false)
    expect(new Set(trace.steps.map((s) => s.bridge))).toEqual(new Set(['br-sfc', 'br-hbn']))
  })

  it('drops the patch pair and the wire with the HBN interface, and the chain says which port is gone', { timeout: 120_000 }, async () => {
    const rep = (await get('si', 'p1-sf')).status.port as string
    await dpuctl(['delete', 'dsi', 'p1-sf', '-n', NS])
    await until('patch pair removed', async () => !(await ovs.vsctl('list-ports', 'br-sfc')).includes(`p${rep}brsfc`))
    expect((await ovs.vsctl('list-ports', 'br-hbn')).includes(`p${rep}brhbn`)).toBe(false)
    await until('br-hbn wires of the remaining HBN interfaces', async () => parseFlows(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-hbn')).length === 4)
    const dsc = await until('fleet object NotReady', async () => {
      const o = await get('dsc', 'hbn-to-fabric')
      return ready(o)?.status === 'False' ? o : undefined
    })
    expect(ready(dsc)!.reason).toBe('PortsUnresolved')
    expect((await ping(extA, '10.78.0.2', { count: 2, interval: 0.2, timeoutS: 3 })).received).toBe(2)
  })
})
