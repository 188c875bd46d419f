/**
 * Issue #15 acceptance, real containers and real packets, once per runtime backend (`process`, `podman`): a
 * forwarding service declared as a plain v1 Pod manifest with two service interfaces, chained p0 <-> svc.net1 and
 * svc.net2 <-> p1 (two switches). Ping from a namespace behind p0 to one behind p1 goes through the service's
 * Linux bridge. Then: its main process killed -> restarted within the backoff, traffic back, chain flows not
 * re-sent (their duration and packet counters keep counting, ofports unchanged); the appliance killed -9 and
 * restarted -> the service keeps running (same pid, no restart), no ping lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { stringify } from 'yaml'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { Cleanup, createNetns, createVethPair, exec, ping, startPing } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { until } from '../support/until.js'
import { ensureBusyboxImage } from '../support/busybox-image.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { podmanInstalled, stopPodmanService } from '../support/podman-service.js'
import { PODMAN_CONTAINERS_CONF } from '../../appliance/runtime/services/podman-runtime.js'

/** Built from Debian's busybox-static (no registry here); the process backend ignores images. */
const BUSYBOX_IMAGE = 'localhost/dpu-test-busybox:1'
const podmanSocket = join(tmpdir(), `podman-e2e-${process.pid}.sock`)

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
type Obj = {
  metadata: { name: string }
  status: {
    phase?: string
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>
    containers?: Array<{ name: string; pid?: number; restartCount: number; state: string }>
    restarts?: number
  }
}

const ready = (o: Obj | undefined) => o?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false

/** The forwarding service: a Linux bridge between its two interfaces, rebuilt at every start. */
function forwarderPod(): string {
  const script = 'ip link del br0 2>/dev/null; ip link add br0 type bridge && ip link set net1 master br0 && ip link set net2 master br0 && ip link set br0 up && exec sleep 1000000'
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'fwd',
      labels: { 'svc.dpu.nvidia.com/service': 'fwd' },
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'mybrsfc@net1, mybrsfc@net2' },
    },
    spec: {
      containers: [
        {
          name: 'bridge',
          image: BUSYBOX_IMAGE,
          command: ['/bin/sh', '-c', script],
          securityContext: { capabilities: { add: ['NET_ADMIN'] } },
          readinessProbe: { exec: { command: ['/bin/sh', '-c', 'ip link show br0 | grep -q ",UP"'] }, periodSeconds: 1 },
        },
      ],
      terminationGracePeriodSeconds: 2,
    },
  })
}

const interfaces = [
  { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'p0', labels: { port: 'p0' } }, spec: { interfaceType: 'physical', physical: { interfaceName: 'p0' } } },
  { apiVersion: SVC, kind: 'ServiceInterface', metadata: { name: 'p1', labels: { port: 'p1' } }, spec: { interfaceType: 'physical', physical: { interfaceName: 'p1' } } },
  {
    apiVersion: SVC,
    kind: 'ServiceInterface',
    metadata: { name: 'fwd-in', labels: { port: 'fwd-in' } },
    spec: { interfaceType: 'service', service: { serviceID: 'fwd', network: 'mybrsfc', interfaceName: 'net1' } },
  },
  {
    apiVersion: SVC,
    kind: 'ServiceInterface',
    metadata: { name: 'fwd-out', labels: { port: 'fwd-out' } },
    spec: { interfaceType: 'service', service: { serviceID: 'fwd', network: 'mybrsfc', interfaceName: 'net2' } },
  },
]
const chain = (name: string, a: string, b: string) => ({
  apiVersion: SVC,
  kind: 'ServiceChain',
  metadata: { name },
  spec: { switches: [{ ports: [{ serviceInterface: { matchLabels: { port: a } } }, { serviceInterface: { matchLabels: { port: b } } }] }] },
})

const runtimes = (['process', 'podman'] as const).filter((r) => r === 'process' || podmanInstalled())

describe.each(runtimes)('a forwarding service in a real %s container, chained between two uplinks', (runtime) => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  let ext0: string
  let ext1: string
  const prefix = `e2e${process.pid}${runtime[1]}-`
  const svcNetns = `${prefix}svc-fwd`
  const applianceArgs = () => [
    '--service-runtime',
    runtime,
    '--service-netns-prefix',
    prefix,
    ...(runtime === 'podman' ? ['--podman-socket', podmanSocket, '--podman-infra-image', BUSYBOX_IMAGE, '--podman-infra-command', '/pause'] : []),
  ]

  const dpuctl = (args: string[], input?: string) => runDpuctl(args, { env: app.clientEnv, ...(input !== undefined ? { input } : {}) })
  const get = async (kind: string, name: string): Promise<Obj | undefined> => {
    const r = await dpuctl(['get', kind, name, '-o', 'json'])
    return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined
  }
  const chainFlows = async () =>
    (await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc'))
      .split('\n')
      .filter((l) => l.includes('cookie='))
      .map((l) => ({
        text: l.replace(/duration=[^,]*, |n_packets=\d+, |n_bytes=\d+, |idle_age=[^,]*, /g, ''),
        duration: Number(/duration=([\d.]+)s/.exec(l)![1]),
        packets: Number(/n_packets=(\d+)/.exec(l)![1]),
      }))
      .sort((a, b) => a.text.localeCompare(b.text))
  const ofports = async () => (await ovs.vsctl('--format=json', '--columns=name,ofport', 'list', 'Interface')).trim()

  beforeAll(async () => {
    if (runtime === 'podman') {
      await ensureBusyboxImage(BUSYBOX_IMAGE)
      cleanup.defer('podman service', async () => stopPodmanService(podmanSocket))
    }
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    ext0 = await createNetns(cleanup, 'sp')
    ext1 = await createNetns(cleanup, 'sp')
    await createVethPair(cleanup, { name: 'p0', netns: ovs.netns, peer: 'ext0', peerNetns: ext0, addr: '10.88.0.1/24', disableOffloads: true })
    await createVethPair(cleanup, { name: 'p1', netns: ovs.netns, peer: 'ext1', peerNetns: ext1, addr: '10.88.0.2/24', disableOffloads: true })
    cleanup.netns(svcNetns)
    app = await startApplianceProcess({ ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns }, extraArgs: applianceArgs() })
    const dataDir = app.dataDir
    // Whichever appliance runs last (the third case restarts it on the same data dir) is stopped here, after the
    // Service cleanup below has had it remove its pod.
    cleanup.defer('appliance', async () => {
      await app.dispose()
      rmSync(dataDir, { recursive: true, force: true })
    })
    // The pod goes when its Service does: the appliance removes what it owns before the sandbox is torn down.
    cleanup.defer('service', async () => {
      if (app.child.exitCode !== null) return
      await dpuctl(['delete', 'service', 'fwd']).catch(() => undefined)
      await until('pod removed', async () => !(await exec(undefined, 'ip', ['netns', 'list'])).stdout.includes(svcNetns), 60_000, 200).catch(() => undefined)
      if (runtime !== 'podman') return
      // The netns name goes before the pod itself: wait for podman to forget it, then make sure (the test's own prefix).
      const pod = `${prefix}dpu-default_fwd`
      const listed = async () => (await exec(undefined, 'env', [`CONTAINERS_CONF=${PODMAN_CONTAINERS_CONF}`, 'podman', 'pod', 'ps', '-q', '--filter', `name=^${pod}$`])).stdout.trim() !== ''
      await until('podman pod removed', async () => !(await listed()), 60_000, 200).catch(() => undefined)
      if (await listed()) await exec(undefined, 'env', [`CONTAINERS_CONF=${PODMAN_CONTAINERS_CONF}`, 'podman', 'pod', 'rm', '-f', pod])
    })
  }, 120_000)
  afterEach(async ({ task }) => {
    if (app && task.result?.state === 'fail') {
      console.error(app.logs.slice(-60).join('\n'))
      console.error((await dpuctl(['get', 'service', 'fwd', '-o', 'yaml'])).stdout)
    }
  })
  afterAll(() => cleanup.run(), 120_000)

  it('forwards ping through the container between p0 and p1', async () => {
    const r = await dpuctl(
      ['apply', '-f', '-'],
      [...interfaces.map((d) => stringify(d)), forwarderPod(), stringify(chain('c-in', 'p0', 'fwd-in')), stringify(chain('c-out', 'fwd-out', 'p1'))].join('---\n'),
    )
    expect(r.code, r.stderr).toBe(0)
    await until('service Ready', async () => ready(await get('service', 'fwd')), 90_000, 200)
    await until('chains Ready', async () => ready(await get('sc', 'c-in')) && ready(await get('sc', 'c-out')), 60_000, 200)
    const p = await ping(ext0, '10.88.0.2', { count: 5, interval: 0.2, timeoutS: 5 })
    expect(p.received).toBe(5)
    // It really is the container's bridge that forwards: both interfaces are its ports.
    expect((await exec(svcNetns, 'ip', ['-o', 'link', 'show', 'master', 'br0'])).stdout).toMatch(/net1[\s\S]*net2|net2[\s\S]*net1/)
  }, 180_000)

  it('restarts a killed main process within the backoff, without re-sending chain flows', async () => {
    const before = (await get('service', 'fwd'))!
    const pid = before.status.containers![0]!.pid!
    expect(pid).toBeGreaterThan(0)
    const flowsBefore = await chainFlows()
    const portsBefore = await ofports()
    expect(flowsBefore).toHaveLength(4)
    process.kill(pid, 'SIGKILL')
    await until(
      'restarted',
      async () => {
        const s = await get('service', 'fwd')
        const c = s?.status.containers?.[0]
        return ready(s) && c?.restartCount === 1 && c.pid !== pid
      },
      60_000,
      100,
    )
    expect((await ping(ext0, '10.88.0.2', { count: 5, interval: 0.2, timeoutS: 5 })).received).toBe(5)
    // Datapath counters reach the OpenFlow rules with the revalidator's next round: wait for them, do not race it.
    const flowsAfter = await until(
      'counters of the pings',
      async () => {
        const now = await chainFlows()
        return now.every((f, i) => f.packets >= (flowsBefore[i]?.packets ?? 0) + 5) ? now : undefined
      },
      30_000,
      200,
    ).catch(() => chainFlows())
    expect(flowsAfter.map((f) => f.text)).toEqual(flowsBefore.map((f) => f.text))
    // Not re-sent: a re-added flow restarts its duration and counters.
    for (const [i, f] of flowsAfter.entries()) {
      expect(f.duration).toBeGreaterThanOrEqual(flowsBefore[i]!.duration)
      expect(f.packets).toBeGreaterThanOrEqual(flowsBefore[i]!.packets + 5)
    }
    expect(await ofports()).toBe(portsBefore)
    const events = await dpuctl(['events', '--for', 'service/fwd'])
    expect(events.stdout).toMatch(/BackOff|Restarted/)
  }, 120_000)

  it('keeps the service running through kill -9 and restart of the appliance, losing no ping', async () => {
    const before = (await get('service', 'fwd'))!
    const c0 = before.status.containers![0]!
    const running = await startPing(cleanup, ext0, '10.88.0.2', { interval: 0.05 })
    await new Promise((r) => setTimeout(r, 500))
    const dataDir = app.dataDir
    await app.stop('SIGKILL')
    await new Promise((r) => setTimeout(r, 1000))
    app = await startApplianceProcess({ dataDir, ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns }, extraArgs: applianceArgs() })
    await until('service Ready after the restart', async () => ready(await get('service', 'fwd')), 60_000, 200)
    await new Promise((r) => setTimeout(r, 1000))
    const result = await running.stop()
    expect(result.received).toBeGreaterThan(20)
    expect(result.lost).toBe(0)
    const after = (await get('service', 'fwd'))!.status.containers![0]!
    expect(after.pid).toBe(c0.pid)
    expect(after.restartCount).toBe(c0.restartCount)
  }, 180_000)
})
