/**
 * End to end through the real binaries: `dpuctl appliance run` in a child process, and dpuctl client commands
 * as separate processes against it (tsx, no build needed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, runDpuctl, startApplianceProcess, type ApplianceProcess } from '../../test/support/appliance-process.js'

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'dpf')
const NS = 'dpf-operator-system'
const WANTED = ['DPUServiceInterface', 'DPUServiceChain', 'DPUServiceNAD', 'DPUFlavor']

/** The DPF samples of the four kinds the acceptance names; a flavor in DPF's own shape if no fixture has one yet. */
function sampleFiles(dir: string): string[] {
  const files = readdirSync(FIXTURES)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(FIXTURES, f))
    .filter((f) => WANTED.some((k) => new RegExp(`^kind:\\s*${k}\\s*$`, 'm').test(readFileSync(f, 'utf8'))))
  if (!files.some((f) => /^kind:\s*DPUFlavor\s*$/m.test(readFileSync(f, 'utf8')))) {
    const flavor = join(dir, 'dpuflavor.yaml')
    writeFileSync(
      flavor,
      `apiVersion: provisioning.dpu.nvidia.com/v1alpha1
kind: DPUFlavor
metadata: {name: dpf-provisioning-hbn-ovn, namespace: ${NS}}
spec:
  grub:
    kernelParameters: [console=hvc0, console=ttyAMA0, "earlycon=pl011,0x13010000", fixrttc, net.ifnames=0, biosdevname=0, iommu.passthrough=1]
  sysctl: {parameters: [net.ipv4.ip_forward=1, net.ipv4.ip_forward_update_priority=0]}
  nvconfig: [{device: "*", parameters: [PF_BAR2_ENABLE=0, PER_PF_NUM_SF=1, PF_TOTAL_SF=20]}]
  ovs:
    rawConfigScript: |
      ovs-vsctl set Open_vSwitch . other_config:doca-init=true
      ovs-vsctl --may-exist add-br br-sfc -- set bridge br-sfc datapath_type=netdev -- set bridge br-sfc fail_mode=secure
`,
    )
    files.push(flavor)
  }
  return files
}

let appliance: ApplianceProcess
let work: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dpuctl-test-'))
  appliance = await startApplianceProcess({ nodeName: 'dpu-test', nodeLabels: { rack: 'r1' } })
})
afterAll(async () => {
  await appliance?.dispose()
  rmSync(work, { recursive: true, force: true })
})

const dpuctl = (args: string[], input?: string) => runDpuctl(args, { env: appliance.clientEnv, ...(input === undefined ? {} : { input }) })

describe('dpuctl against a running appliance', { timeout: 180_000 }, () => {
  it('wrote a random token file with mode 0600 and logs JSON lines', () => {
    expect(statSync(appliance.tokenFile).mode & 0o777).toBe(0o600)
    expect(appliance.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const rec = JSON.parse(appliance.logs.find((l) => l.includes('listening on'))!) as { level: string; msg: string }
    expect(rec.level).toBe('info')
    expect(rec.msg).toBe(`listening on ${appliance.url} as node dpu-test, token file ${appliance.tokenFile}`)
    expect(appliance.logs.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'node name dpu-test (from --node-name)')).toBe(true)
  })

  it('applies the DPF samples and gets them back with generation, uid and conditions, plus rendered node objects', async () => {
    const files = sampleFiles(work)
    for (const f of files) {
      const r = await dpuctl(['apply', '-f', f])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/ created/)
    }
    for (const [kind, count] of [
      ['dsi', 3],
      ['dpuservicechains', 1],
      ['dpuservicenad', 1],
      ['DPUFlavor', 1],
    ] as const) {
      const r = await dpuctl(['get', kind, '-A', '-o', 'json'])
      expect(r.code).toBe(0)
      const list = JSON.parse(r.stdout) as { kind: string; items: { metadata: { uid: string; generation: number }; status: { conditions: { type: string }[] } }[] }
      expect(list.kind).toBe('List')
      expect(list.items.length).toBeGreaterThanOrEqual(count)
      for (const o of list.items) {
        expect(o.metadata.generation).toBe(1)
        expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
        expect(o.status.conditions.map((c) => c.type)).toContain('Ready')
      }
    }
    const sc = await dpuctl(['get', 'sc', 'hbn-to-fabric', '-n', NS, '-o', 'yaml'])
    expect(sc.code).toBe(0)
    expect(sc.stdout).toMatch(/node: dpu-test/)
    const si = await dpuctl(['get', 'serviceinterface', '-n', NS])
    expect(si.stdout.split('\n')[0]).toMatch(/^NAME\s+GENERATION\s+READY\s+REASON\s+AGE$/)
    expect(si.stdout).toMatch(/^p0-sf\s+1\s+Unknown\s+Pending/m)
    const wide = await dpuctl(['get', 'dsc', '-A', '-o', 'wide'])
    // Without OVS nothing programs the rendered chain, and the fleet object says so (its Ready rolls up the child's).
    expect(wide.stdout).toMatch(/dpf-operator-system\s+hbn-to-fabric\s+1\s+False\s+Pending\s+local/)
    // the fleet object shows its uid without -o wide, as the README's tour says
    const dsc = await dpuctl(['get', 'dsc', 'hbn-to-fabric', '-n', NS])
    expect(dsc.stdout).toMatch(/^NAME\s+GENERATION\s+READY\s+REASON\s+UID\s+AGE\nhbn-to-fabric\s+1\s+False\s+Pending\s+[0-9a-f-]{36}\s+\d+[smhd]\n$/)
  })

  it('re-applying is unchanged; a directory and stdin work; describe shows conditions and events', async () => {
    const dir = join(work, 'manifests')
    mkdirSync(dir)
    writeFileSync(join(dir, 'a.yaml'), readFileSync(join(FIXTURES, 'dpuserviceinterfaces.yaml')))
    writeFileSync(join(dir, 'ignored.txt'), 'not a manifest')
    const again = await dpuctl(['apply', '-f', dir])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/dpuserviceinterface.svc.dpu.nvidia.com\/p0 unchanged/)
    const json = JSON.stringify({
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'ServiceInterface',
      metadata: { name: 'vf3', namespace: NS, labels: { port: 'vf3' } },
      spec: { interfaceType: 'vf', vf: { pfID: 0, vfID: 3 } },
    })
    const stdin = await dpuctl(['apply', '-f', '-'], json)
    expect(stdin.stdout).toBe('serviceinterface.svc.dpu.nvidia.com/vf3 created\n')
    const d = await dpuctl(['describe', 'si', 'vf3', '-n', NS])
    expect(d.code).toBe(0)
    expect(d.stdout).toMatch(/^Generation:\s+1$/m)
    expect(d.stdout).toMatch(/Ready\s+Unknown\s+Pending/)
    expect(d.stdout).toMatch(/Normal\s+Created/)
    expect(d.stdout).toMatch(/vfID: 3/)
  })

  it('applies a v1 Pod manifest as a Service, and names the file and line of a Pod it refuses', async () => {
    const hbn = join(REPO_ROOT, 'api', 'resources', 'testdata', 'doca-hbn-pod.yaml')
    const r = await dpuctl(['apply', '-f', hbn])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('service.svc.dpu.nvidia.com/doca-hbn created\n')
    const got = await dpuctl(['get', 'svc', 'doca-hbn', '-n', NS, '-o', 'json'])
    expect((JSON.parse(got.stdout) as { spec: { serviceID: string } }).spec.serviceID).toBe('doca-hbn')
    const file = join(work, 'pods.yaml')
    writeFileSync(file, `${readFileSync(hbn, 'utf8')}---\napiVersion: v1\nkind: Pod\nmetadata: {name: bad, labels: {app: x}}\nspec: {initContainers: [], containers: [{name: c, image: i}]}\n`)
    const bad = await dpuctl(['apply', '-f', file])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/pods\.yaml:\d+: .*Pod default\/bad/)
    expect(bad.stderr).toContain('metadata.labels["svc.dpu.nvidia.com/service"]: required')
    expect(bad.stderr).toContain('spec.initContainers: the appliance cannot honour initContainers')
    expect((await dpuctl(['delete', '-f', hbn])).stdout).toBe('service.svc.dpu.nvidia.com "doca-hbn" deleted\n')
  })

  it('reports validation errors with the object and field path (exit 1), usage errors exit 2', async () => {
    const bad = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceInterface
metadata: {name: broken, namespace: ${NS}}
spec: {interfaceType: physical, pf: {pfID: 0}}
`
    const r = await dpuctl(['apply', '-f', '-'], bad)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ServiceInterface dpf-operator-system\/broken: spec\.physical: required/)
    const decode = await dpuctl(['apply', '-f', '-'], 'kind: [oops\n')
    expect(decode.code).toBe(1)
    expect(decode.stderr).toMatch(/<stdin>:\d+:\d+: malformed YAML/)
    expect((await dpuctl(['get', 'widgets'])).code).toBe(1)
    expect((await dpuctl(['get'])).code).toBe(2)
    expect((await dpuctl(['apply'])).code).toBe(2)
    expect((await dpuctl(['get', 'si', '--bogus-flag'])).code).toBe(2)
    const missing = await dpuctl(['get', 'si', 'nope', '-n', NS])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/Error from server \(Object not found, 404\)/)
  })

  it('fails with exit 1 on a wrong token and an unreachable server', async () => {
    const tokenFile = join(work, 'wrong-token')
    writeFileSync(tokenFile, 'wrong\n')
    const wrong = await runDpuctl(['get', 'si', '-A'], { env: { ...appliance.clientEnv, DPUCTL_TOKEN_FILE: tokenFile } })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/401/)
    const down = await runDpuctl(['get', 'si', '-A', '--server', 'http://127.0.0.1:1', '--token-file', tokenFile], {})
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/cannot reach the appliance/)
  })

  it('refuses direct deletes and edits of a rendered object with a 409 naming its fleet object', async () => {
    const owned = `ServiceChain ${NS}/hbn-to-fabric is rendered from DPUServiceChain ${NS}/hbn-to-fabric; delete or edit that instead`
    const del = await dpuctl(['delete', 'sc', 'hbn-to-fabric', '-n', NS])
    expect(del.code).toBe(1)
    expect(del.stderr).toContain('409')
    expect(del.stderr).toContain(owned)
    const exported = await dpuctl(['get', 'sc', 'hbn-to-fabric', '-n', NS, '-o', 'yaml'])
    expect(exported.code).toBe(0)
    const edit = await dpuctl(['apply', '-f', '-'], exported.stdout.replace(/node: dpu-test/, 'node: dpu-test\n  # edited'))
    expect(edit.code).toBe(1)
    expect(edit.stderr).toContain(owned)

    // The same rule on every REST route that writes: PUT, POST to the collection, the batch apply and delete.
    const sc = JSON.parse((await dpuctl(['get', 'sc', 'hbn-to-fabric', '-n', NS, '-o', 'json'])).stdout) as {
      apiVersion: string
      kind: string
      metadata: { name: string; namespace: string }
      spec: unknown
    }
    const body = JSON.stringify({ apiVersion: sc.apiVersion, kind: sc.kind, metadata: { name: sc.metadata.name, namespace: NS }, spec: sc.spec })
    const collection = `${appliance.url}/apis/svc.dpu.nvidia.com/v1alpha1/namespaces/${NS}/servicechains`
    const headers = { authorization: `Bearer ${appliance.token}`, 'content-type': 'application/json' }
    for (const [method, url] of [
      ['PUT', `${collection}/hbn-to-fabric`],
      ['POST', collection],
      ['POST', `${appliance.url}/apis/appliance/v1/apply`],
      ['POST', `${appliance.url}/apis/appliance/v1/delete`],
      ['DELETE', `${collection}/hbn-to-fabric`],
    ] as const) {
      const res = await fetch(url, { method, headers, ...(method === 'DELETE' ? {} : { body }) })
      expect(res.status, `${method} ${url}`).toBe(409)
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/)
      expect(await res.json()).toMatchObject({ code: 'desired.rendered-object', detail: owned })
    }
    // Nothing changed: the rendered object is still there at generation 1, and the fleet object still says so.
    const after = JSON.parse((await dpuctl(['get', 'sc', 'hbn-to-fabric', '-n', NS, '-o', 'json'])).stdout) as { metadata: { generation: number } }
    expect(after.metadata.generation).toBe(1)
    expect((await dpuctl(['get', 'dsc', 'hbn-to-fabric', '-n', NS, '-o', 'wide'])).stdout).toMatch(/False\s+Pending/)
  })

  it('deletes by name and by file, with rendered objects, and lists events', async () => {
    const byName = await dpuctl(['delete', 'dsc', 'hbn-to-fabric', '-n', NS])
    expect(byName.stdout).toBe('dpuservicechain.svc.dpu.nvidia.com "hbn-to-fabric" deleted\n')
    expect((await dpuctl(['get', 'sc', 'hbn-to-fabric', '-n', NS])).code).toBe(1)
    const byFile = await dpuctl(['delete', '-f', join(FIXTURES, 'dpuserviceinterfaces.yaml')])
    expect(byFile.code).toBe(0)
    expect(byFile.stdout).toMatch(/dpuserviceinterface.svc.dpu.nvidia.com "p0-sf" deleted/)
    expect(byFile.stdout).toMatch(/serviceinterface.svc.dpu.nvidia.com "p0-sf" deleted \(rendered\)/)
    expect((await dpuctl(['delete', '-f', join(FIXTURES, 'dpuserviceinterfaces.yaml')])).code).toBe(1)
    expect((await dpuctl(['delete', '-f', join(FIXTURES, 'dpuserviceinterfaces.yaml'), '--ignore-not-found'])).code).toBe(0)
    const ev = await dpuctl(['events', '-n', NS])
    expect(ev.code).toBe(0)
    expect(ev.stdout).toMatch(/Deleted\s+servicechain\/hbn-to-fabric/)
  })
})

describe('dpuctl appliance run lifecycle', { timeout: 180_000 }, () => {
  it('reads --config, lets flags win, keeps state across a restart and stops cleanly on SIGTERM', async () => {
    const dataDir = join(work, 'cfg-data')
    const tokenFile = join(work, 'given-token')
    writeFileSync(tokenFile, 'operator-chosen-token\n', { mode: 0o600 })
    const config = join(work, 'appliance.yaml')
    writeFileSync(config, `data-dir: ${dataDir}\nnode-name: from-file\nnode-label: [zone=a]\ntoken-file: ${tokenFile}\n`)
    const a = await startApplianceProcess({ dataDir, nodeName: 'from-flag', extraArgs: ['--config', config] })
    try {
      expect(a.token).toBe('operator-chosen-token')
      expect(readdirSync(dataDir)).not.toContain('token')
      const other = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceInterface
metadata: {name: elsewhere, namespace: ${NS}}
spec: {node: from-file, interfaceType: pf, pf: {pfID: 1}}
`
      const r = await runDpuctl(['apply', '-f', '-'], { env: a.clientEnv, input: other })
      expect(r.code).toBe(0)
      const got = JSON.parse((await runDpuctl(['get', 'si', 'elsewhere', '-n', NS, '-o', 'json'], { env: a.clientEnv })).stdout) as { status: { conditions: { reason: string; message: string }[] } }
      // --node-name from-flag wins over the file's from-file, so the object is for another node
      expect(got.status.conditions[0]!.reason).toBe('OtherNode')
      expect(await a.stop('SIGTERM')).toBe(0)
      expect(a.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true)
    } finally {
      await a.dispose()
    }
    const b = await startApplianceProcess({ dataDir, extraArgs: ['--token-file', tokenFile] })
    try {
      const r = await runDpuctl(['get', 'si', 'elsewhere', '-n', NS, '-o', 'json'], { env: b.clientEnv })
      expect(r.code).toBe(0)
      expect(await b.stop('SIGINT')).toBe(0)
    } finally {
      await b.dispose()
    }
  })

  it('refuses a second appliance on the same data dir, naming the holder; a SIGKILLed holder does not block the next start', async () => {
    const dataDir = join(work, 'locked-data')
    const first = await startApplianceProcess({ dataDir, nodeName: 'dpu-first' })
    try {
      const si = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceInterface
metadata: {name: kept, namespace: ${NS}}
spec: {interfaceType: pf, pf: {pfID: 0}}
`
      expect((await runDpuctl(['apply', '-f', '-'], { env: first.clientEnv, input: si })).code).toBe(0)
      const second = await startApplianceProcess({ dataDir, nodeName: 'dpu-second' }).then(
        () => 'started',
        (err: Error) => err.message,
      )
      expect(second).toMatch(/appliance exited \(1\) before listening/)
      expect(second).toContain(`dpuctl appliance run: data dir ${dataDir} is in use by dpuctl appliance run (pid ${first.pid}, since `)
      // The first one is undisturbed: same token, still serving its objects.
      expect(readFileSync(first.tokenFile, 'utf8').trim()).toBe(first.token)
      expect((await runDpuctl(['get', 'si', 'kept', '-n', NS], { env: first.clientEnv })).code).toBe(0)

      expect(await first.stop('SIGKILL')).toBe('SIGKILL')
      const third = await startApplianceProcess({ dataDir, nodeName: 'dpu-first' })
      try {
        expect((await runDpuctl(['get', 'si', 'kept', '-n', NS], { env: third.clientEnv })).code).toBe(0)
      } finally {
        await third.dispose()
      }
    } finally {
      await first.dispose()
    }
  })

  it('rejects a bad flag value with exit 2 and a bad config file with exit 1', async () => {
    expect((await runDpuctl(['appliance', 'run', '--bogus'])).code).toBe(2)
    const config = join(work, 'bad.yaml')
    writeFileSync(config, 'listen: nowhere\n')
    const r = await runDpuctl(['appliance', 'run', '--config', config, '--data-dir', join(work, 'x')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/listen/)
  })
})
