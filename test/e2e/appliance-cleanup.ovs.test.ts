/**
 * `dpuctl appliance cleanup` against what a real appliance left behind on a private OVS: its bridges, a service
 * veth and the service namespace it created. A foreign bridge and a `<prefix>svc-*` namespace the appliance did
 * not create are there too, and must survive. While the appliance runs, cleanup is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { listNetns, readLink, runCommand, serviceVethName } from '../../appliance/runtime/ports/index.js'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { Cleanup } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../support/until.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'

describe('dpuctl appliance cleanup', { timeout: 180_000 }, () => {
  const cleanup = new Cleanup()
  // Namespaces are machine-wide: a per-run prefix keeps parallel test files and the demo apart.
  const prefix = `cu${process.pid.toString(36)}-`
  const ours = `${prefix}svc-a`
  const theirs = `${prefix}svc-theirs`
  const veth = serviceVethName('default/svc-a')
  let ovs: OvsSandbox
  let app: ApplianceProcess
  const cleanupArgs = () => ['appliance', 'cleanup', '--data-dir', app.dataDir, '--ovsdb', ovs.dbRemote, '--ovs-netns', ovs.netns!, '--service-netns-prefix', prefix]
  const bridges = async () => (await ovs.vsctl('list-br')).split('\n').filter(Boolean).sort()

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    await ovs.vsctl('add-br', 'br-foreign', '--', 'set', 'bridge', 'br-foreign', 'datapath_type=netdev')
    cleanup.netns(theirs)
    await runCommand(['ip', 'netns', 'add', theirs])
    cleanup.netns(ours) // in case the test fails before cleanup removes it
    app = await startApplianceProcess({ ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns }, extraArgs: ['--service-netns-prefix', prefix] })
    cleanup.defer('appliance', () => app.dispose())
  })
  afterEach(({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-40).join('\n'))
  })
  afterAll(() => cleanup.run())

  it('is refused while the appliance runs, lists on --dry-run, then removes only what the appliance made', async () => {
    const si = { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'svc-a' }, spec: { interfaceType: 'service', service: { serviceID: 'a', network: 'mybrsfc', interfaceName: 'eth1' } } }
    const applied = await runDpuctl(['apply', '-f', '-'], { env: app.clientEnv, input: stringify(si) })
    expect(applied.code, applied.stderr).toBe(0)
    await until('service veth on br-sfc', async () => (await ovs.vsctl('list-ports', 'br-sfc').catch(() => '')).includes(veth), 60_000)
    expect(await bridges()).toEqual(['br-foreign', 'br-hbn', 'br-ovn', 'br-sfc'])
    expect(await listNetns()).toContain(ours)

    const refused = await runDpuctl(cleanupArgs())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`data dir ${app.dataDir} is in use by dpuctl appliance run (pid ${app.pid}`)
    expect(await bridges()).toEqual(['br-foreign', 'br-hbn', 'br-ovn', 'br-sfc'])

    expect(await app.stop()).toBe(0)
    const dry = await runDpuctl([...cleanupArgs(), '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('would remove'))).toEqual([
      'would remove bridge br-hbn',
      'would remove bridge br-ovn',
      'would remove bridge br-sfc',
      `would remove veth ${veth} (netns ${ovs.netns})`,
      `would remove netns ${ours}`,
    ])
    expect(dry.stdout).toContain('kept bridge br-foreign (not marked owner=dpu-appliance)')
    expect(dry.stdout).toContain(`kept netns ${theirs} (not recorded as created by this appliance`)
    // A dry run changes nothing.
    expect(await bridges()).toEqual(['br-foreign', 'br-hbn', 'br-ovn', 'br-sfc'])
    expect(await readLink(veth, { netns: ovs.netns! })).toBeDefined()

    const done = await runDpuctl(cleanupArgs())
    expect(done.code, done.stderr).toBe(0)
    expect(done.stdout).toContain(`removed netns ${ours}`)
    expect(await bridges()).toEqual(['br-foreign'])
    expect(await readLink(veth, { netns: ovs.netns! })).toBeUndefined()
    const namespaces = await listNetns()
    expect(namespaces).not.toContain(ours)
    expect(namespaces).toContain(theirs)

    // The records went with what they named: a second run finds nothing, and the appliance starts again.
    const again = await runDpuctl(cleanupArgs())
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('nothing to remove')
  })
})
