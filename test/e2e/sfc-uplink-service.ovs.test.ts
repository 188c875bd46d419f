/**
 * Uplink <-> service through a chain, with real packets: a veth standing in for p0 whose peer sits in an
 * "external" namespace, a service interface the appliance creates in the service's namespace, and a chain
 * between them. Ping works with the chain and stops without it (br-sfc is fail_mode=secure).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { stringify } from 'yaml'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec, ping } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../support/until.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'

describe('service chain between an uplink and a service (real packets)', () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  let ext: string
  const svcNetns = `svc-e2e${process.pid}`

  const apply = async (docs: unknown[]) => {
    const r = await runDpuctl(['apply', '-f', '-'], { env: app.clientEnv, input: docs.map((d) => stringify(d)).join('---\n') })
    expect(r.code, r.stderr).toBe(0)
  }

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    ext = await createNetns(cleanup, 'tn')
    // p0 lives where vswitchd runs; its peer is the outside world.
    await createVethPair(cleanup, { name: 'p0', netns: ovs.netns, peer: 'ext0', peerNetns: ext, addr: '10.77.0.1/24', disableOffloads: true })
    cleanup.netns(svcNetns)
    app = await startApplianceProcess({ ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns } })
    cleanup.defer('appliance', () => app.dispose())
  })
  afterEach(({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-40).join('\n'))
  })
  afterAll(() => cleanup.run())

  it('forwards between the namespaces only while the chain exists', async () => {
    await apply([
      { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'p0', labels: { uplink: 'p0' } }, spec: { interfaceType: 'physical', physical: { interfaceName: 'p0' } } },
      {
        apiVersion: SVC,
        kind: 'ServiceInterface',
        metadata: { name: 'svc-a', labels: { svc: 'a' }, annotations: { 'dpu.appliance/netns': svcNetns } },
        spec: { interfaceType: 'service', service: { serviceID: 'a', network: 'mybrsfc', interfaceName: 'eth1' } },
      },
    ])
    await until('service interface in its namespace', async () => (await exec(svcNetns, 'ip', ['link', 'show', 'eth1'])) !== undefined)
    await exec(svcNetns, 'ip', ['addr', 'add', '10.77.0.2/24', 'dev', 'eth1'])
    await until('interfaces ready', async () => {
      const r = await runDpuctl(['get', 'si', '-o', 'json'], { env: app.clientEnv })
      const items = (JSON.parse(r.stdout) as { items: Array<{ status: { conditions?: Array<{ type: string; status: string }> } }> }).items
      return items.length === 2 && items.every((i) => i.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    })
    // No chain yet: fail_mode=secure passes nothing.
    expect((await ping(ext, '10.77.0.2', { count: 2, interval: 0.2, timeoutS: 2 })).received).toBe(0)

    await apply([
      {
        apiVersion: SVC,
        kind: 'ServiceChain',
        metadata: { name: 'c1' },
        spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }, { serviceInterface: { matchLabels: { svc: 'a' } } }] }] },
      },
    ])
    await until('chain ready', async () => {
      const r = await runDpuctl(['get', 'sc', 'c1', '-o', 'json'], { env: app.clientEnv })
      return (JSON.parse(r.stdout) as { status: { conditions?: Array<{ type: string; status: string }> } }).status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    })
    const flows = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')
    expect(flows.split('\n').filter((l) => l.includes('cookie=')).length).toBe(2)
    const up = await ping(ext, '10.77.0.2', { count: 5, interval: 0.2, timeoutS: 3 })
    expect(up.received).toBe(5)

    const del = await runDpuctl(['delete', 'sc', 'c1'], { env: app.clientEnv })
    expect(del.code, del.stderr).toBe(0)
    await until('flows removed', async () => !(await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).includes('cookie='))
    expect((await ping(ext, '10.77.0.2', { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(0)
  })

  it('sends zero flow mods when the appliance restarts over an unchanged switch', async () => {
    await apply([
      {
        apiVersion: SVC,
        kind: 'ServiceChain',
        metadata: { name: 'c2' },
        spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { uplink: 'p0' } } }, { serviceInterface: { matchLabels: { svc: 'a' } } }] }] },
      },
    ])
    await until('flows', async () => (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).split('cookie=').length === 3)
    const durations = async () =>
      (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc'))
        .split('\n')
        .filter((l) => l.includes('cookie='))
        .map((l) => Number(/duration=([\d.]+)s/.exec(l)![1]))
    await new Promise((r) => setTimeout(r, 1500))
    const dataDir = app.dataDir
    await app.stop()
    app = await startApplianceProcess({ dataDir, ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns } })
    cleanup.defer('restarted appliance', async () => {
      await app.dispose()
      rmSync(dataDir, { recursive: true, force: true }) // a reused data dir is not the helper's to remove
    })
    await until('chain ready after restart', async () => {
      const r = await runDpuctl(['get', 'sc', 'c2', '-o', 'json'], { env: app.clientEnv })
      return (JSON.parse(r.stdout) as { status: { conditions?: Array<{ type: string; status: string }> } }).status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    })
    // Re-added flows would restart their duration at 0; untouched ones kept counting since before the restart.
    const after = await durations()
    expect(after).toHaveLength(2)
    for (const d of after) expect(d).toBeGreaterThanOrEqual(1.4)
    expect(app.logs.some((l) => l.includes('"flows installed"'))).toBe(false)
    expect((await ping(ext, '10.77.0.2', { count: 3, interval: 0.2, timeoutS: 2 })).received).toBe(3)
  })
})
