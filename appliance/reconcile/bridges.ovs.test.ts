/**
 * Bridge ownership against a real ovsdb-server + ovs-vswitchd and a real appliance process: the owned bridges
 * appear with their settings, drift is repaired from the OVSDB monitor (how fast is measured in bench/), foreign bridges and ports
 * survive every reconcile, and the flavor's OVS keys land in Open_vSwitch other_config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../../test/support/until.js'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../../test/support/appliance-process.js'

const get = async (ovs: OvsSandbox, table: string, record: string, column: string) => (await ovs.vsctl('--if-exists', 'get', table, record, column)).trim()

describe('bridge ownership (real OVS, real appliance)', () => {
  let ovs: OvsSandbox
  let app: ApplianceProcess

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    // Foreign objects created before the appliance starts: it must never touch them.
    await ovs.vsctl('add-br', 'br-foreign', '--', 'set', 'bridge', 'br-foreign', 'datapath_type=netdev')
    app = await startApplianceProcess({ ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns } })
  })
  afterAll(async () => {
    await app?.dispose()
    await ovs?.stop()
  })

  it('creates br-sfc and br-hbn (netdev, fail_mode=secure) and br-ovn, marked as owned', async () => {
    await until('bridges', async () => (await ovs.vsctl('list-br')).includes('br-ovn'))
    expect((await ovs.vsctl('list-br')).trim().split('\n').sort()).toEqual(['br-foreign', 'br-hbn', 'br-ovn', 'br-sfc'])
    for (const br of ['br-sfc', 'br-hbn']) {
      expect(await get(ovs, 'bridge', br, 'fail_mode')).toBe('secure')
      expect(await get(ovs, 'bridge', br, 'datapath_type')).toBe('netdev')
      expect(await get(ovs, 'bridge', br, 'external_ids:owner')).toBe('dpu-appliance')
    }
    expect(await get(ovs, 'bridge', 'br-ovn', 'fail_mode')).toBe('[]')
    // vswitchd really created them: the OpenFlow management socket answers.
    expect(await ovs.ofctl('-O', 'OpenFlow15', 'show', 'br-sfc')).toMatch(/OFPT_FEATURES_REPLY/)
  })

  it('repairs a bridge deleted by hand and a changed fail_mode, without touching foreign objects', async () => {
    await ovs.vsctl('add-port', 'br-sfc', 'foreign0', '--', 'set', 'interface', 'foreign0', 'type=internal')
    await ovs.vsctl('del-br', 'br-hbn')
    await until('br-hbn back', async () => (await ovs.vsctl('list-br')).split('\n').includes('br-hbn'), 15_000, 20)
    await ovs.vsctl('set', 'bridge', 'br-sfc', 'fail_mode=standalone')
    await until('fail_mode secure', async () => (await get(ovs, 'bridge', 'br-sfc', 'fail_mode')) === 'secure', 15_000, 20)
    expect((await ovs.vsctl('list-ports', 'br-sfc')).split('\n')).toContain('foreign0')
    expect((await ovs.vsctl('list-br')).split('\n')).toContain('br-foreign')
    expect(await get(ovs, 'bridge', 'br-foreign', 'external_ids:owner')).toBe('')
  })

  it('sets the flavor OVS keys in Open_vSwitch other_config and reports the flavor applied', async () => {
    const applied = await runDpuctl(['apply', '-f', 'test/fixtures/dpf/dpuflavor-hbn-ovn.yaml'], { env: app.clientEnv })
    expect(applied.code, applied.stderr).toBe(0)
    await until('hw-offload', async () => (await get(ovs, 'open_vswitch', '.', 'other_config:hw-offload')) === '"true"')
    expect(await get(ovs, 'open_vswitch', '.', 'other_config:dpdk-max-memzones')).toBe('"50000"')
    const flavor = await until('flavor status', async () => {
      const r = await runDpuctl(['get', 'dpuflavor', 'dpf-provisioning-hbn-ovn', '-n', 'dpf-operator-system', '-o', 'json'], { env: app.clientEnv })
      const o = JSON.parse(r.stdout) as { status: { conditions?: Array<{ type: string; status: string; message: string }> } }
      return o.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')
    })
    expect(flavor.message).toMatch(/hw-offload/)
  })

  it('shows observed bridges with `dpuctl get bridges -o wide`, including vswitchd interface errors', async () => {
    // A port whose netdev does not exist: vswitchd reports an Interface.error that ovs-vsctl show hides.
    await ovs.vsctl('add-port', 'br-foreign', 'nosuchdev0')
    const r = await until('error reported', async () => {
      const out = await runDpuctl(['get', 'bridges', '-o', 'wide'], { env: app.clientEnv })
      return out.code === 0 && /nosuchdev0: .*(No such device|could not open)/i.test(out.stdout) ? out : undefined
    })
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+OWNED\s+ROLE\s+DATAPATH\s+FAIL_MODE\s+PORTS\s+PORT_DETAILS\s+PROBLEMS$/)
    expect(lines.find((l) => l.startsWith('br-sfc'))).toMatch(/^br-sfc\s+yes\s+sfc\s+netdev\s+secure/)
    expect(lines.find((l) => l.startsWith('br-foreign'))).toMatch(/^br-foreign\s+no\s+-/)
  })

  it('is ready only with the OVS database connected', async () => {
    const res = await fetch(`${app.url}/readyz`)
    expect(res.status).toBe(200)
  })
})
