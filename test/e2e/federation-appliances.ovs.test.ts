/**
 * Issue #5 acceptance with every part real: `dpuctl hub run` over mTLS (certificates from `dpuctl certs`), two
 * `dpuctl appliance run` processes, each on its own OVS sandbox, with different node labels. One DPF manifest
 * set renders differently per DPU (nodeSelector); the hub is SIGKILLed while a ping runs through a chain on
 * dpu-a, the appliances keep serving and forwarding, and a change made meanwhile arrives after the restart.
 * Issue #14: a hub SIGKILLed while a manifest is half written starts from that file's last good objects (kept in
 * hub.db), so the chain stays and the ping loses nothing.
 */
import { mkdtempSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runDpuctl, startApplianceProcess, type ApplianceProcess } from '../support/appliance-process.js'
import { startHubProcess, until, type HubProcess } from '../support/federation-processes.js'
import { Cleanup, createNetns, createVethPair, exec, ping, startPing } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
const NS = 'dpf-operator-system'

interface Dpu {
  name: string
  zone: string
  ovs: OvsSandbox
  ext: string
  svcNetns: string
  app: ApplianceProcess
}

/** One DPUServiceInterface per zone (service port in a per-run netns) and one DPUServiceChain per zone. */
function manifests(svcNetns: Record<string, string>, note = 'v1'): Record<string, string> {
  const sif = (zone: string) => `
apiVersion: ${SVC}
kind: DPUServiceInterface
metadata: {name: svc-${zone}, namespace: ${NS}}
spec:
  template:
    spec:
      nodeSelector: {matchLabels: {zone: "${zone}"}}
      template:
        metadata:
          labels: {svc: "${zone}"}
          annotations: {dpu.appliance/netns: "${svcNetns[zone]}"}
        spec:
          interfaceType: service
          service: {serviceID: "${zone}", network: mybrsfc, interfaceName: eth1}
`
  const chain = (zone: string) => `
apiVersion: ${SVC}
kind: DPUServiceChain
metadata: {name: chain-${zone}, namespace: ${NS}}
spec:
  template:
    spec:
      nodeSelector: {matchLabels: {zone: "${zone}"}}
      template:
        metadata: {annotations: {note: "${note}"}}
        spec:
          switches:
            - ports:
              - serviceInterface: {matchLabels: {uplink: p0}}
              - serviceInterface: {matchLabels: {svc: "${zone}"}}
`
  return {
    'interfaces.yaml': `
apiVersion: ${SVC}
kind: DPUServiceInterface
metadata: {name: p0, namespace: ${NS}}
spec:
  template:
    spec:
      template:
        metadata: {labels: {uplink: p0}}
        spec: {interfaceType: physical, physical: {interfaceName: p0}}
---${sif('a')}---${sif('b')}`,
    'chains.yaml': `${chain('a')}---${chain('b')}`,
  }
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

async function api<T>(app: ApplianceProcess, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(`${app.url}${path}`, { ...init, headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json', ...init.headers } })
  return { status: r.status, body: (await r.json()) as T }
}

interface Obj {
  kind: string
  metadata: { name: string; annotations?: Record<string, string> }
  spec: Record<string, unknown>
  status: { conditions?: Array<{ type: string; status: string }> }
}

async function held(app: ApplianceProcess): Promise<string[]> {
  const names: string[] = []
  for (const plural of ['serviceinterfaces', 'servicechains']) {
    const r = await api<{ items: Obj[] }>(app, `/apis/${SVC}/${plural}`)
    names.push(...r.body.items.map((o) => `${o.kind}/${o.metadata.name}`))
  }
  return names.sort()
}

async function chainFlows(ovs: OvsSandbox): Promise<number> {
  const out = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc').catch(() => '')
  return out.split('\n').filter((l) => l.includes('cookie=') && !l.includes('cookie=0x0,')).length
}

async function hubState(app: ApplianceProcess): Promise<{ connection: string; syncedRevision: number; lastHubContact: string | null }> {
  return (await api<{ hub: { connection: string; syncedRevision: number; lastHubContact: string | null } }>(app, '/apis/appliance/v1/status')).body.hub
}

const EXPECTED: Record<string, string[]> = {
  'dpu-a': ['ServiceChain/chain-a', 'ServiceInterface/p0', 'ServiceInterface/svc-a'],
  'dpu-b': ['ServiceChain/chain-b', 'ServiceInterface/p0', 'ServiceInterface/svc-b'],
}

describe('federation: hub + two appliances on their own OVS', () => {
  const cleanup = new Cleanup()
  const dpus: Dpu[] = []
  let work: string
  let pki: string
  let manifestDir: string
  let hub: HubProcess
  let hubArgs: (listen: string) => string[]
  const svcNetns = { a: `sfa${process.pid.toString(36)}`, b: `sfb${process.pid.toString(36)}` }
  const figures: Record<string, number> = {}

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'fed-ovs-'))
    cleanup.defer('work dir', async () => rmSync(work, { recursive: true, force: true }))
    pki = join(work, 'pki')
    manifestDir = join(work, 'manifests')
    mkdirSync(manifestDir)
    const init = await runDpuctl(['certs', 'init', '--out', pki])
    expect(init.code, init.stderr).toBe(0)
    for (const d of ['dpu-a', 'dpu-b']) {
      const r = await runDpuctl(['certs', 'issue', '--out', pki, '--dpu', d])
      expect(r.code, r.stderr).toBe(0)
    }
    hubArgs = (listen) => [
      '--data-dir',
      join(work, 'hub'),
      '--manifests',
      manifestDir,
      '--listen',
      listen,
      '--api-listen',
      '127.0.0.1:0',
      '--tls-cert',
      join(pki, 'hub.crt'),
      '--tls-key',
      join(pki, 'hub.key'),
      '--tls-ca',
      join(pki, 'ca.crt'),
      '--log-level',
      'warn',
    ]
    hub = await startHubProcess(hubArgs('127.0.0.1:0'))
    cleanup.defer('hub', () => hub.kill())

    for (const [name, zone] of [
      ['dpu-a', 'a'],
      ['dpu-b', 'b'],
    ] as const) {
      const ovs = await startOvsSandbox()
      cleanup.defer(`ovs ${name}`, () => ovs.stop())
      const ext = await createNetns(cleanup, 'tn')
      // p0 lives where this DPU's vswitchd runs; its peer is the outside world.
      await createVethPair(cleanup, { name: 'p0', netns: ovs.netns, peer: 'ext0', peerNetns: ext, addr: '10.77.0.1/24', disableOffloads: true })
      cleanup.netns(svcNetns[zone])
      const app = await startApplianceProcess({
        nodeName: name,
        // No hub registry in this test: the hub renders by the labels the appliance reports in its hello.
        nodeLabels: { zone },
        ovs: { dbRemote: ovs.dbRemote, rundir: ovs.rundir, netns: ovs.netns },
        extraArgs: ['--hub', `127.0.0.1:${hub.grpcPort}`, '--dpu-name', name, '--tls-cert', join(pki, `${name}.crt`), '--tls-key', join(pki, `${name}.key`), '--tls-ca', join(pki, 'ca.crt')],
      })
      cleanup.defer(`appliance ${name}`, () => app.dispose())
      dpus.push({ name, zone, ovs, ext, svcNetns: svcNetns[zone], app })
    }
    for (const d of dpus) await until(async () => (await hubState(d.app)).connection === 'connected', 20_000, `${d.name} connected to the hub`)
  }, 120_000)

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') {
      for (const d of dpus) console.error(`--- ${d.name} logs\n${d.app.logs.slice(-30).join('\n')}`)
      console.error(`--- hub output\n${hub?.output().slice(-3000)}`)
    }
  })
  afterAll(async () => {
    console.log(`federation figures: ${JSON.stringify(figures)}`)
    await cleanup.run()
  }, 60_000)

  it('delivers each DPU exactly its rendered objects (the time is printed, not asserted), and their flows land on its br-sfc', async () => {
    const t0 = Date.now()
    for (const [file, text] of Object.entries(manifests(svcNetns))) writeAtomic(join(manifestDir, file), text)
    await until(
      async () => {
        for (const d of dpus) if ((await held(d.app)).join() !== EXPECTED[d.name]!.join()) return false
        return true
      },
      15_000,
      'rendered objects on both appliances',
    )
    figures.objectsMs = Date.now() - t0
    for (const d of dpus) expect(await held(d.app)).toEqual(EXPECTED[d.name])
    // Hub-owned objects carry spec.node = the DPU's own name.
    const sc = await api<Obj>(dpus[0]!.app, `/apis/${SVC}/namespaces/${NS}/servicechains/chain-a`)
    expect(sc.body.spec.node).toBe('dpu-a')

    await until(
      async () => {
        for (const d of dpus) if ((await chainFlows(d.ovs)) !== 2) return false
        return true
      },
      10_000,
      'chain flows on both br-sfc',
    )
    figures.flowsMs = Date.now() - t0
    for (const d of dpus) {
      const flows = await d.ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')
      const cookies = new Set([...flows.matchAll(/cookie=(0x[0-9a-f]+)/g)].map((m) => m[1]).filter((c) => c !== '0x0'))
      expect(cookies.size, `${d.name}: one cookie per chain`).toBe(1)
    }
    // Different chains, different cookies: each DPU got its own chain, not the other's.
    const cookieOf = async (d: Dpu) =>
      /cookie=(0x[0-9a-f]+)/.exec((await d.ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc')).split('\n').find((l) => l.includes('cookie=') && !l.includes('cookie=0x0,'))!)![1]
    expect(await cookieOf(dpus[0]!)).not.toBe(await cookieOf(dpus[1]!))
  }, 30_000)

  it('keeps hub-owned objects read-only through the local API, and local objects writable', async () => {
    const a = dpus[0]!.app
    const get = await runDpuctl(['get', 'sc', 'chain-a', '-n', NS, '-o', 'json'], { env: a.clientEnv })
    expect(get.code, get.stderr).toBe(0)
    const obj = JSON.parse(get.stdout) as Obj & { metadata: Record<string, unknown>; status?: unknown }
    const changed = { apiVersion: SVC, kind: 'ServiceChain', metadata: { name: 'chain-a', namespace: NS, labels: { tampered: 'yes' } }, spec: obj.spec }
    const apply = await runDpuctl(['apply', '-f', '-'], { env: a.clientEnv, input: JSON.stringify(changed) })
    expect(apply.code).toBe(1)
    expect(apply.stderr).toMatch(/409|owned by the (federation )?hub/i)
    expect(apply.stderr).toMatch(/hub/)
    const del = await runDpuctl(['delete', 'sc', 'chain-a', '-n', NS], { env: a.clientEnv })
    expect(del.code).toBe(1)
    expect(del.stderr).toMatch(/hub/)
    console.log(`dpuctl apply of a hub-owned object: ${apply.stderr.trim()}\ndpuctl delete: ${del.stderr.trim()}`)
    // The same through REST: 409 problem+json naming the hub.
    const put = await api<{ status: number; detail: string; code: string }>(a, `/apis/${SVC}/namespaces/${NS}/servicechains/chain-a`, { method: 'PUT', body: JSON.stringify(changed) })
    expect(put.status).toBe(409)
    expect(put.body).toMatchObject({ code: 'store.read-only', detail: expect.stringMatching(/owned by the federation hub/) })
    const rdel = await api<{ code: string; detail: string }>(a, `/apis/${SVC}/namespaces/${NS}/servicechains/chain-a`, { method: 'DELETE' })
    expect(rdel.status).toBe(409)
    expect(rdel.body.detail).toMatch(/hub/)
    expect(await held(a)).toEqual(EXPECTED['dpu-a'])

    // Local objects beside hub-owned ones: created, changed and deleted through dpuctl.
    const local = (mtu: number) =>
      JSON.stringify({ apiVersion: SVC, kind: 'DPUServiceNAD', metadata: { name: 'local-nad', namespace: NS }, spec: { resourceType: 'sf', bridge: 'br-sfc', mtu, ipam: false } })
    for (const mtu of [1500, 1400]) {
      const r = await runDpuctl(['apply', '-f', '-'], { env: a.clientEnv, input: local(mtu) })
      expect(r.code, r.stderr).toBe(0)
    }
    const gone = await runDpuctl(['delete', 'dpuservicenad', 'local-nad', '-n', NS], { env: a.clientEnv })
    expect(gone.code, gone.stderr).toBe(0)
  }, 60_000)

  it('keeps forwarding and serving with the hub killed; a change made meanwhile arrives after the restart', async () => {
    const [a, b] = dpus as [Dpu, Dpu]
    await until(async () => (await exec(a.svcNetns, 'ip', ['link', 'show', 'eth1']).catch(() => undefined)) !== undefined, 10_000, 'service interface in its netns')
    await exec(a.svcNetns, 'ip', ['addr', 'add', '10.77.0.2/24', 'dev', 'eth1'])
    expect((await ping(a.ext, '10.77.0.2', { count: 3, interval: 0.2, timeoutS: 3 })).received).toBe(3)
    const before = await hubState(a.app)
    expect(before.connection).toBe('connected')

    const pinger = await startPing(cleanup, a.ext, '10.77.0.2', { interval: 0.02 })
    await new Promise((r) => setTimeout(r, 500))
    const port = hub.grpcPort
    await hub.kill('SIGKILL')
    const tKill = Date.now()

    await until(async () => (await hubState(a.app)).connection !== 'connected' && (await hubState(b.app)).connection !== 'connected', 10_000, 'appliances notice the hub is gone')
    const status = await runDpuctl(['status'], { env: a.app.clientEnv })
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/Hub:\s+(disconnected|connecting)/)
    expect(status.stdout).toMatch(new RegExp(`Synced revision:\\s+${before.syncedRevision}\\b`))
    expect(status.stdout).toMatch(new RegExp(`Last hub contact:\\s+\\d{4}-`))
    const get = await runDpuctl(['get', 'sc', '-n', NS], { env: a.app.clientEnv })
    expect(get.code, get.stderr).toBe(0)
    expect(get.stdout).toContain('chain-a')
    expect(await chainFlows(a.ovs)).toBe(2)

    // A change while the hub is down: only the annotation of chain-a (same flows, so no data-path change).
    writeAtomic(join(manifestDir, 'chains.yaml'), manifests(svcNetns, 'v2')['chains.yaml']!)
    await new Promise((r) => setTimeout(r, 1000))
    figures.hubDownMs = Date.now() - tKill
    hub = await startHubProcess(hubArgs(`127.0.0.1:${port}`))
    const tUp = Date.now()
    await until(
      async () => {
        const sc = await api<Obj>(a.app, `/apis/${SVC}/namespaces/${NS}/servicechains/chain-a`)
        return sc.body.metadata.annotations?.note === 'v2'
      },
      90_000,
      'the change made while the hub was down reaches dpu-a',
    )
    figures.changeAfterRestartMs = Date.now() - tUp
    const after = await hubState(a.app)
    expect(after.connection).toBe('connected')
    expect(after.syncedRevision).toBeGreaterThan(before.syncedRevision)
    await until(async () => (await hubState(b.app)).connection === 'connected', 90_000, 'dpu-b reconnected')
    const bsc = await api<Obj>(b.app, `/apis/${SVC}/namespaces/${NS}/servicechains/chain-b`)
    expect(bsc.body.metadata.annotations?.note).toBe('v2')

    await new Promise((r) => setTimeout(r, 500))
    const result = await pinger.stop()
    figures.pingSent = result.sent
    figures.pingLost = result.lost
    expect(result.sent).toBeGreaterThan(50)
    expect(result.lost).toBe(0)
    // lost counts gaps before the last answer; this rules out a path that never answered at all.
    expect(result.received).toBeGreaterThan(result.sent * 0.9)
    expect(await chainFlows(a.ovs)).toBe(2)
  }, 180_000)
  it("starts from a broken file's last good objects after a SIGKILL: the chain stays, 0 packets lost (issue #14)", async () => {
    const [a, b] = dpus as [Dpu, Dpu]
    expect((await ping(a.ext, '10.77.0.2', { count: 3, interval: 0.2, timeoutS: 3 })).received).toBe(3)
    const pinger = await startPing(cleanup, a.ext, '10.77.0.2', { interval: 0.02 })
    await new Promise((r) => setTimeout(r, 500))
    const port = hub.grpcPort
    await hub.kill('SIGKILL')
    // The write the crash cut short: half of chains.yaml, which no longer parses.
    const full = manifests(svcNetns, 'v2')['chains.yaml']!
    writeFileSync(join(manifestDir, 'chains.yaml'), full.slice(0, Math.floor(full.length / 2)) + '\n  - [')
    hub = await startHubProcess(hubArgs(`127.0.0.1:${port}`))

    const fleet = async () =>
      (await (await fetch(`http://127.0.0.1:${hub.apiPort}/v1/fleet`)).json()) as { sourceErrors: Record<string, string>; dpus: Array<{ name: string; connected: boolean; phase: string }> }
    // Both DPUs back and synced to what the restarted hub wants: had it read the broken file as empty, that
    // would be a revision without their chains, applied by now.
    await until(
      async () => {
        const f = await fleet()
        return f.dpus.filter((d) => d.connected && d.phase === 'synced').length === 2
      },
      90_000,
      'both DPUs synced to the restarted hub',
    )
    expect(Object.keys((await fleet()).sourceErrors)).toEqual([join(manifestDir, 'chains.yaml')])
    const ready = (await (await fetch(`http://127.0.0.1:${hub.apiPort}/readyz`)).json()) as { status: string; reasons: string[] }
    expect(ready.status).toBe('degraded')
    expect(ready.reasons.join('\n')).toContain('chains.yaml')
    expect(await (await fetch(`http://127.0.0.1:${hub.apiPort}/metrics`)).text()).toMatch(/dpu_hub_source_errors\{source="manifest-dir"\} 1/)
    expect(await held(a.app)).toEqual(EXPECTED['dpu-a'])
    expect(await held(b.app)).toEqual(EXPECTED['dpu-b'])
    expect(await chainFlows(a.ovs)).toBe(2)

    await new Promise((r) => setTimeout(r, 500))
    const result = await pinger.stop()
    figures.brokenRestartPingSent = result.sent
    figures.brokenRestartPingLost = result.lost
    expect(result.sent).toBeGreaterThan(50)
    expect(result.lost).toBe(0)
    expect(result.received).toBeGreaterThan(result.sent * 0.9)

    writeAtomic(join(manifestDir, 'chains.yaml'), full)
    await until(async () => Object.keys((await fleet()).sourceErrors).length === 0, 30_000, 'the fixed file is read again')
  }, 180_000)
})
