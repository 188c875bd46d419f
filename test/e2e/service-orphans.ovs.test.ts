/**
 * Issue #15 part 4 (delete), across an appliance restart: a Service deleted while the appliance is down (its
 * store edited offline, as a hub revision applied at start-up or `appliance cleanup` would) leaves a pod that
 * no Service wants, on a backend no remaining Service uses. The restarted appliance still lists that backend
 * (it recorded in its store that the backend may hold its pods) and removes the pod: process gone, network
 * namespace gone, the record cleared once the backend holds nothing of ours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { SVC_API_VERSION } from '../../api/resources/common.js'
import { RUNTIMES_IN_USE_META_KEY } from '../../appliance/services/services-reconciler.js'
import { openStore } from '../../appliance/store/index.js'
import { Cleanup, exec } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { until } from '../support/until.js'

type Obj = { status: { conditions?: Array<{ type: string; status: string }>; containers?: Array<{ pid?: number }> } }

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a Service deleted while the appliance is down', () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  const prefix = `sg${process.pid}-`
  const svcNetns = `${prefix}svc-lonely`
  const dataDir = mkdtempSync(join(tmpdir(), 'appliance-orphans-'))
  const start = () =>
    startApplianceProcess({ dataDir, ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns }, extraArgs: ['--service-runtime', 'process', '--service-netns-prefix', prefix] })
  const pod = stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'lonely', labels: { 'svc.dpu.nvidia.com/service': 'lonely' } },
    spec: { containers: [{ name: 'main', image: 'localhost/lonely:1', command: ['/bin/sh', '-c', 'while :; do sleep 1; done'] }], terminationGracePeriodSeconds: 1 },
  })
  let pid = 0

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    cleanup.defer('data dir', async () => rmSync(dataDir, { recursive: true, force: true }))
    cleanup.netns(svcNetns)
    cleanup.defer('service process', async () => {
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL')
    })
    app = await start()
    cleanup.defer('appliance', () => app.stop('SIGTERM').then(() => undefined))
    const r = await runDpuctl(['apply', '-f', '-'], { env: app.clientEnv, input: pod })
    expect(r.code, r.stderr).toBe(0)
    const obj = await until(
      'service Ready',
      async () => {
        const g = await runDpuctl(['get', 'service', 'lonely', '-o', 'json'], { env: app.clientEnv })
        const o = g.code === 0 ? (JSON.parse(g.stdout) as Obj) : undefined
        return o?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? o : undefined
      },
      90_000,
      200,
    )
    pid = obj.status.containers?.[0]?.pid ?? 0
  }, 180_000)
  afterEach(({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-60).join('\n'))
  })
  afterAll(() => cleanup.run(), 120_000)

  it('is removed by the restarted appliance although no Service uses its backend any more', async () => {
    expect(pid).toBeGreaterThan(0)
    expect(await app.stop('SIGKILL')).toBe('SIGKILL')
    // The pod outlives the appliance (adopted on restart when its Service is still there).
    expect(alive(pid)).toBe(true)
    expect((await exec(undefined, 'ip', ['netns', 'list'])).stdout).toContain(svcNetns)

    const store = openStore(join(dataDir, 'state.db'), { nodeName: 'dpu-test' })
    try {
      expect(JSON.parse(store.meta.get(RUNTIMES_IN_USE_META_KEY) ?? '[]')).toEqual(['process'])
      const [deleted] = store.objects.delete([{ apiVersion: SVC_API_VERSION, kind: 'Service', namespace: 'default', name: 'lonely' }], { origin: 'local' })
      expect(deleted?.action).toBe('deleted')
    } finally {
      store.close()
    }

    app = await start()
    await until('orphaned process stopped', async () => !alive(pid), 60_000, 200)
    await until('its network namespace removed', async () => !(await exec(undefined, 'ip', ['netns', 'list'])).stdout.includes(svcNetns), 60_000, 200)
    const get = await runDpuctl(['get', 'services', '-o', 'json'], { env: app.clientEnv })
    expect(get.code, get.stderr).toBe(0)
    expect((JSON.parse(get.stdout) as { items: unknown[] }).items).toEqual([])

    // Once the backend lists nothing of ours, the record goes: a later start asks no backend at all.
    await until(
      'record cleared',
      async () => {
        const s = openStore(join(dataDir, 'state.db'), { nodeName: 'dpu-test' })
        try {
          return s.meta.get(RUNTIMES_IN_USE_META_KEY) === undefined
        } finally {
          s.close()
        }
      },
      30_000,
      200,
    )
  }, 240_000)
})
