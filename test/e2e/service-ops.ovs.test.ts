/**
 * Issue #15 part 6, end to end: a real appliance process (`--service-runtime process`, a private OVS sandbox)
 * runs a Service applied as a plain v1 Pod manifest without interfaces, and dpuctl reaches it: `get services -o
 * wide`, `describe service`, `logs --tail` and `logs -f` (a new line arrives while following), `exec` (output
 * and exit code), `restart` (restartCount + 1, a new pid), problem+json for an unknown container, an unknown
 * service and a bad body, and the cap on follow streams (per client), whose slots come back on disconnect.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { DEFAULT_LOG_FOLLOW_LIMITS } from '../../appliance/rest/log-limits.js'
import { Cleanup, exec } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { runDpuctl, startApplianceProcess, startDpuctl, type ApplianceProcess } from '../support/appliance-process.js'
import { until } from '../support/until.js'

type Obj = { status: { phase?: string; conditions?: Array<{ type: string; status: string }>; containers?: Array<{ name: string; pid?: number; restartCount: number; state: string }> } }
const ready = (o: Obj | undefined) => o?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false

describe('dpuctl get, describe, logs, exec and restart of a Service on the process backend', () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let app: ApplianceProcess
  const prefix = `so${process.pid}-`
  const svcNetns = `${prefix}svc-talker`
  // The process backend runs the command on the host's filesystem: exec pokes the service through this file.
  const poke = join(tmpdir(), `svc-ops-poke-${process.pid}`)
  const script = `echo one; echo two; echo three; while :; do if [ -e ${poke} ]; then rm -f ${poke}; echo poked; fi; sleep 0.2; done`
  const pod = stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'talker', labels: { 'svc.dpu.nvidia.com/service': 'talker' } },
    spec: { containers: [{ name: 'main', image: 'localhost/talker:1', command: ['/bin/sh', '-c', script] }], terminationGracePeriodSeconds: 2 },
  })

  const dpuctl = (args: string[], input?: string) => runDpuctl(args, { env: app.clientEnv, ...(input !== undefined ? { input } : {}) })
  const get = async (): Promise<Obj | undefined> => {
    const r = await dpuctl(['get', 'service', 'talker', '-o', 'json'])
    return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined
  }
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${app.url}/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/default/services/${path}`, { ...init, headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' } })

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    cleanup.netns(svcNetns)
    cleanup.defer('poke file', async () => rmSync(poke, { force: true }))
    app = await startApplianceProcess({ ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns }, extraArgs: ['--service-runtime', 'process', '--service-netns-prefix', prefix] })
    cleanup.defer('appliance', () => app.dispose())
    cleanup.defer('service', async () => {
      if (app.child.exitCode !== null) return
      await dpuctl(['delete', 'service', 'talker']).catch(() => undefined)
      await until('pod removed', async () => !(await exec(undefined, 'ip', ['netns', 'list'])).stdout.includes(svcNetns), 60_000, 200).catch(() => undefined)
    })
    const r = await dpuctl(['apply', '-f', '-'], pod)
    expect(r.code, r.stderr).toBe(0)
    await until('service Ready', async () => ready(await get()), 90_000, 200)
    await until('first lines logged', async () => (await dpuctl(['logs', 'talker'])).stdout.includes('three'), 30_000, 200)
  }, 180_000)
  afterEach(({ task }) => {
    if (app && task.result?.state === 'fail') console.error(app.logs.slice(-60).join('\n'))
  })
  afterAll(() => cleanup.run(), 120_000)

  it('lists it with phase, ready containers and restarts; -o wide adds runtime, image, interfaces and reason', async () => {
    const plain = await dpuctl(['get', 'services'])
    expect(plain.code, plain.stderr).toBe(0)
    const [header, row] = plain.stdout.trim().split('\n')
    expect(header).toMatch(/^NAME\s+PHASE\s+READY\s+RESTARTS\s+AGE$/)
    expect(row).toMatch(/^talker\s+Running\s+1\/1\s+0\s+\d+[smh]$/)
    const wide = await dpuctl(['get', 'services', '-o', 'wide'])
    const lines = wide.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+PHASE\s+READY\s+RESTARTS\s+AGE\s+RUNTIME\s+IMAGES\s+INTERFACES\s+REASON$/)
    expect(lines[1]).toMatch(/^talker\s+Running\s+1\/1\s+0\s+\S+\s+process\s+localhost\/talker:1\s+<none>\s+Running$/)
  })

  it('describes it: spec summary, the container with its state and pid, conditions', async () => {
    const r = await dpuctl(['describe', 'service', 'talker'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Service ID:\s+talker/)
    expect(r.stdout).toMatch(/Image:\s+localhost\/talker:1/)
    const pid = (await get())!.status.containers![0]!.pid!
    expect(r.stdout).toMatch(new RegExp(`main\\s+running\\s+true\\s+0\\s+-\\s+${pid}\\s`))
    expect(r.stdout).toMatch(/Interfaces:\s+<none>/)
    expect(r.stdout).toMatch(/Ready\s+True\s+Running/)
  })

  it('prints the last lines with --tail, and follows new output with -f', async () => {
    const tail = await dpuctl(['logs', 'talker', '--tail', '2'])
    expect(tail.code, tail.stderr).toBe(0)
    expect(tail.stdout).toBe('two\nthree\n')
    expect((await dpuctl(['logs', 'service/talker', '-c', 'main', '--since', '1h'])).stdout).toBe('one\ntwo\nthree\n')

    const follow = startDpuctl(['logs', 'talker', '-f', '--tail', '1'], { env: app.clientEnv })
    cleanup.defer('logs -f', () => follow.stop('SIGKILL'))
    await until('follow printed the tail', async () => follow.stdout() === 'three\n', 30_000, 100)
    const poked = await dpuctl(['exec', 'talker', '--', 'touch', poke])
    expect(poked.code, poked.stderr).toBe(0)
    await until('follow saw the new line', async () => follow.stdout() === 'three\npoked\n', 30_000, 100)
    expect(await follow.stop('SIGINT')).toBe(0)
  }, 90_000)

  it(`caps follow streams at ${DEFAULT_LOG_FOLLOW_LIMITS.maxFollowsPerClient} per client and gives a slot back when its client goes away`, async () => {
    const held: AbortController[] = []
    cleanup.defer('held follows', async () => held.forEach((a) => a.abort()))
    // The earlier `logs -f` may still hold its slot for a moment after its process ended.
    const admitted = async () => {
      const ac = new AbortController()
      const res = await api('talker/log?follow=true', { signal: ac.signal })
      if (res.status === 200) return { ac, res }
      await res.body?.cancel()
      return undefined
    }
    for (let i = 0; i < DEFAULT_LOG_FOLLOW_LIMITS.maxFollowsPerClient; i++) {
      const got = await until(`follow ${i + 1} admitted`, admitted, 30_000, 100)
      expect(got.res.headers.get('content-type')).toMatch(/^text\/plain/)
      held.push(got.ac)
    }
    const refused = await api('talker/log?follow=true')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(await refused.json()).toMatchObject({ code: 'rest.too-many-log-follows', status: 429 })
    // A plain read is not a follow: it is never refused by the cap.
    const plain = await api('talker/log?tailLines=1')
    expect(plain.status).toBe(200)
    expect(await plain.text()).toMatch(/\n$/)
    held.pop()!.abort()
    const again = await until('slot given back', admitted, 30_000, 100)
    again.ac.abort()
    held.forEach((a) => a.abort())
  }, 90_000)

  it("runs a command in the container and exits with the command's exit code", async () => {
    const r = await dpuctl(['exec', 'talker', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('out\n')
    expect(r.stderr).toBe('err\n')
    const ok = await dpuctl(['exec', 'talker', '-c', 'main', '--', 'echo', '-h'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toBe('-h\n')
  })

  it('restarts the containers: restartCount goes up by one, a new pid', async () => {
    const before = (await get())!.status.containers![0]!
    const r = await dpuctl(['restart', 'service', 'talker'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('service/talker restarted (main)\n')
    await until(
      'restarted',
      async () => {
        const s = await get()
        const c = s?.status.containers?.[0]
        return ready(s) && c?.state === 'running' && c.restartCount === before.restartCount + 1 && c.pid !== before.pid
      },
      60_000,
      200,
    )
    expect((await dpuctl(['events', '--for', 'service/talker'])).stdout).toMatch(/Restarted/)
  }, 90_000)

  it('answers problem+json: unknown container 404, unknown service 404, bad exec body 400', async () => {
    const noContainer = await dpuctl(['logs', 'talker', '-c', 'nope'])
    expect(noContainer.code).toBe(1)
    expect(noContainer.stderr).toMatch(/^Error from server \(No such container in the service, 404\): service default\/talker has no container "nope"/)
    const res = await api('talker/exec', { method: 'POST', body: JSON.stringify({ container: 'nope', command: ['true'] }) })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ code: 'service.container-not-found' })

    const ghost = await dpuctl(['exec', 'ghost', '--', 'true'])
    expect(ghost.code).toBe(1)
    expect(ghost.stderr).toMatch(/^Error from server \(Object not found, 404\)/)
    const ghostRestart = await api('ghost/restart', { method: 'POST' })
    expect(ghostRestart.status).toBe(404)
    expect(await ghostRestart.json()).toMatchObject({ code: 'store.not-found' })

    const bad = await api('talker/exec', { method: 'POST', body: JSON.stringify({ command: [], timeoutSeconds: 9999 }) })
    expect(bad.status).toBe(400)
    const problem = (await bad.json()) as { code: string; errors: Array<{ path: string }> }
    expect(problem.code).toBe('api.validation')
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['command', 'timeoutSeconds'])
    const badQuery = await api('talker/log?tailLines=-1')
    expect(badQuery.status).toBe(400)
    expect(await badQuery.json()).toMatchObject({ code: 'api.validation', errors: [{ path: 'tailLines' }] })
  })
})
