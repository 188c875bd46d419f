/**
 * Issue #15: bad service input, each with a clear condition (or a refused apply naming the field) and no effect on
 * a healthy service running beside it: a missing interface, two services claiming one serviceID, requests that
 * do not fit the flavor, an invalid probe, Pod fields the appliance cannot honour, and (podman) an unknown image.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { podmanInstalled, stopPodmanService } from '../support/podman-service.js'
import { stringify } from 'yaml'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { Cleanup, exec } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../support/until.js'

type Condition = { type: string; status: string; reason: string; message: string }
type Obj = { status: { conditions?: Condition[]; containers?: Array<{ pid?: number; restartCount: number }> } }

const pod = (name: string, serviceID: string, extra: { networks?: string; container?: Record<string, unknown>; spec?: Record<string, unknown> } = {}) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'svc.dpu.nvidia.com/service': serviceID }, ...(extra.networks ? { annotations: { 'k8s.v1.cni.cncf.io/networks': extra.networks } } : {}) },
    spec: { containers: [{ name: 'main', image: 'localhost/dpu-test-busybox:1', command: ['sleep', '100000'], ...extra.container }], terminationGracePeriodSeconds: 1, ...extra.spec },
  })

describe('bad service input: a clear condition each, the healthy service untouched', () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  const prefix = `e2e${process.pid}b-`
  let healthy: { pid: number; restartCount: number }
  const podmanSocket = join(tmpdir(), `podman-bad-${process.pid}.sock`)

  const dpuctl = (args: string[], input?: string) => runDpuctl(args, { env: app.clientEnv, ...(input !== undefined ? { input } : {}) })
  const ready = async (name: string): Promise<Condition | undefined> => {
    const r = await dpuctl(['get', 'service', name, '-o', 'json'])
    return r.code === 0 ? (JSON.parse(r.stdout) as Obj).status.conditions?.find((c) => c.type === 'Ready') : undefined
  }
  const reasonOf = (name: string, reason: string) => until(`${name}: ${reason}`, async () => ((await ready(name))?.reason === reason ? await ready(name) : undefined), 60_000, 200)

  beforeAll(async () => {
    cleanup.defer('podman service', async () => stopPodmanService(podmanSocket))
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    // process by default; podman (when installed) for the Service that asks for it.
    app = await startApplianceProcess({
      ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
      extraArgs: [
        '--service-runtime',
        'process',
        '--service-netns-prefix',
        prefix,
        '--podman-socket',
        podmanSocket,
        '--podman-infra-image',
        'localhost/dpu-test-busybox:1',
        '--podman-infra-command',
        '/pause',
      ],
    })
    cleanup.defer('appliance', () => app.dispose())
    cleanup.defer('services', async () => {
      if (app.child.exitCode !== null) return
      for (const name of ['ok', 'noif', 'ok-twin', 'big', 'noimage']) await dpuctl(['delete', 'service', name]).catch(() => undefined)
      await until('pods removed', async () => !(await exec(undefined, 'ip', ['netns', 'list'])).stdout.includes(prefix), 60_000, 200).catch(() => undefined)
    })
    // A flavor leaving 1 CPU and 256Mi to services.
    const flavor = {
      apiVersion: 'provisioning.dpu.nvidia.com/v1alpha1',
      kind: 'DPUFlavor',
      metadata: { name: 'small' },
      spec: { dpuResources: { cpu: 2, memory: '512Mi' }, systemReservedResources: { cpu: 1, memory: '256Mi' } },
    }
    const r = await dpuctl(['apply', '-f', '-'], [stringify(flavor), pod('ok', 'ok', { container: { resources: { requests: { cpu: '500m', memory: '64Mi' } } } })].join('---\n'))
    expect(r.code, r.stderr).toBe(0)
    await reasonOf('ok', 'Running')
    const s = JSON.parse((await dpuctl(['get', 'service', 'ok', '-o', 'json'])).stdout) as Obj
    healthy = { pid: s.status.containers![0]!.pid!, restartCount: s.status.containers![0]!.restartCount }
  }, 120_000)
  afterEach(async ({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-40).join('\n'))
    // Whatever went wrong next to it, the healthy service kept running, same process, no restart.
    const s = JSON.parse((await dpuctl(['get', 'service', 'ok', '-o', 'json'])).stdout) as Obj
    expect(s.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True')
    expect(s.status.containers![0]!.pid).toBe(healthy.pid)
    expect(s.status.containers![0]!.restartCount).toBe(healthy.restartCount)
  })
  afterAll(() => cleanup.run(), 120_000)

  it('a missing interface: InterfacesNotReady naming it, nothing started', async () => {
    expect((await dpuctl(['apply', '-f', '-'], pod('noif', 'noif', { networks: 'mybrsfc@net9' }))).code).toBe(0)
    const c = await reasonOf('noif', 'InterfacesNotReady')
    expect(c.message).toContain('serviceID noif')
    expect(c.message).toContain('interfaceName net9')
    const s = JSON.parse((await dpuctl(['get', 'service', 'noif', '-o', 'json'])).stdout) as Obj
    expect(s.status.containers?.[0]?.pid).toBeUndefined()
  })

  it('two services claiming one serviceID: the later one gets InterfaceConflict naming the holder', async () => {
    expect((await dpuctl(['apply', '-f', '-'], pod('ok-twin', 'ok'))).code).toBe(0)
    const c = await reasonOf('ok-twin', 'InterfaceConflict')
    expect(c.message).toContain('Service default/ok')
  })

  it('requests that do not fit the flavor: ResourcesDoNotFit with the figures', async () => {
    expect((await dpuctl(['apply', '-f', '-'], pod('big', 'big', { container: { resources: { requests: { cpu: '1' } } } }))).code).toBe(0)
    const c = await reasonOf('big', 'ResourcesDoNotFit')
    expect(c.message).toBe("cpu: requests 1000m, 500m left of the flavor's dpuResources minus systemReservedResources")
  })

  it('an invalid probe is refused at apply with its field path; nothing is stored', async () => {
    const r = await dpuctl(['apply', '-f', '-'], pod('badprobe', 'badprobe', { container: { readinessProbe: { periodSeconds: 0, exec: { command: ['true'] } } } }))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('readinessProbe.periodSeconds')
    expect((await dpuctl(['get', 'service', 'badprobe'])).code).not.toBe(0)
  })

  it('Pod fields the appliance cannot honour are refused by name, not ignored', async () => {
    const r = await dpuctl(['apply', '-f', '-'], pod('init', 'init', { spec: { initContainers: [{ name: 'i', image: 'x' }] } }))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('initContainers')
    const h = await dpuctl(['apply', '-f', '-'], pod('hostnet', 'hostnet', { spec: { hostNetwork: true } }))
    expect(h.code).not.toBe(0)
    expect(h.stderr).toContain('hostNetwork')
  })

  it.runIf(podmanInstalled())('an unknown image on podman: ImagePullFailed naming it', async () => {
    const svc = {
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'Service',
      metadata: { name: 'noimage' },
      spec: { serviceID: 'noimage', runtime: 'podman', template: { spec: { containers: [{ name: 'main', image: 'localhost/does-not-exist:0', command: ['sleep', '1'] }] } } },
    }
    expect((await dpuctl(['apply', '-f', '-'], stringify(svc))).code).toBe(0)
    const c = await reasonOf('noimage', 'ImagePullFailed')
    expect(c.message).toContain('localhost/does-not-exist:0')
  })
})
