/**
 * dpuctl behaving as a kubectl user expects (issue #12), through the real binaries: dpuctl client processes
 * (tsx) against `dpuctl appliance run --ovsdb none` in a child process, and real shell pipes.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DPUCTL_ARGS, REPO_ROOT, runDpuctl, startApplianceProcess, startDpuctl, type ApplianceProcess } from '../../test/support/appliance-process.js'
import { until } from '../../test/support/until.js'

const NS = 'habits'
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version

const si = (name: string, namespace = NS) => ({
  apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
  kind: 'ServiceInterface',
  metadata: { name, namespace, labels: { port: name } },
  spec: { interfaceType: 'pf', pf: { pfID: 0 } },
})
const yaml = (o: ReturnType<typeof si>) =>
  `apiVersion: ${o.apiVersion}\nkind: ${o.kind}\nmetadata: {name: ${o.metadata.name}, namespace: ${o.metadata.namespace}, labels: {port: ${o.metadata.name}}}\nspec: {interfaceType: pf, pf: {pfID: 0}}\n`

/** The test runner's environment without the DPUCTL_* variables: only flags point dpuctl at a server. */
const bareEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DPUCTL_')))

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  await new Promise((r) => srv.close(r))
  return port
}

let appliance: ApplianceProcess
let work: string
const dpuctl = (args: string[], input?: string) => runDpuctl(args, { env: appliance.clientEnv, ...(input === undefined ? {} : { input }) })

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dpuctl-habits-'))
  appliance = await startApplianceProcess({ nodeName: 'dpu-habits' })
  const r = await dpuctl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [si('g1'), si('g2')] }))
  expect(r.stderr).toBe('')
  const chain = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: ServiceChain
metadata: {name: c1, namespace: ${NS}}
spec: {switches: [{ports: [{serviceInterface: {matchLabels: {port: g1}}}, {serviceInterface: {matchLabels: {port: g2}}}]}]}
`
  expect((await dpuctl(['apply', '-f', '-'], chain)).code).toBe(0)
})
afterAll(async () => {
  await appliance?.dispose()
  rmSync(work, { recursive: true, force: true })
})

describe('dpuctl reads like kubectl', { timeout: 180_000 }, () => {
  it('takes --server, --token-file and -n before the command words', async () => {
    const r = await runDpuctl(['--server', appliance.url, '--token-file', appliance.tokenFile, '-n', NS, 'get', 'si', 'g1', '-o', 'name'], { env: bareEnv })
    expect(r).toEqual({ code: 0, stdout: 'serviceinterface.svc.dpu.nvidia.com/g1\n', stderr: '' })
    const inline = await runDpuctl([`--server=${appliance.url}`, `--token-file=${appliance.tokenFile}`, 'get', 'sc', '--namespace', NS, '-o', 'name'], { env: bareEnv })
    expect(inline.stdout).toBe('servicechain.svc.dpu.nvidia.com/c1\n')
    // -n before apply -f: objects without a namespace go there, one naming another is refused with its line
    const noNs = 'apiVersion: svc.dpu.nvidia.com/v1alpha1\nkind: ServiceInterface\nmetadata: {name: n1}\nspec: {interfaceType: pf, pf: {pfID: 0}}\n'
    expect((await dpuctl(['-n', NS, 'apply', '-f', '-'], noNs)).stdout).toBe('serviceinterface.svc.dpu.nvidia.com/n1 created\n')
    expect((await dpuctl(['get', 'si', 'n1', '-n', NS, '-o', 'name'])).code).toBe(0)
    const other = await dpuctl(['-n', 'elsewhere', 'apply', '-f', '-'], yaml(si('n2')))
    expect(other).toMatchObject({ code: 1, stderr: `error: <stdin>:1: the namespace of the object (${NS}) does not match -n elsewhere\n` })
    expect((await dpuctl(['-n', NS, 'delete', '-f', '-'], noNs)).stdout).toBe('serviceinterface.svc.dpu.nvidia.com "n1" deleted\n')
  })

  it('answers flag mistakes in its own words, with the usage, exit 2', async () => {
    const unknown = await dpuctl(['get', 'si', '--bogus-flag'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^dpuctl get: unknown flag --bogus-flag\n\nUsage: dpuctl get /)
    expect(unknown.stderr).not.toMatch(/Unknown option|positional argument/)
    const typo = await dpuctl(['get', 'si', '--namepace', NS])
    expect(typo.stderr).toMatch(/^dpuctl get: unknown flag --namepace \(did you mean --namespace\?\)\n/)
    const missing = await dpuctl(['get', 'si', '-n'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^dpuctl get: flag -n needs a value\n/)
    const leading = await dpuctl(['--bogus', 'get', 'si'])
    expect(leading.code).toBe(2)
    expect(leading.stderr).toMatch(/^dpuctl: unknown flag --bogus\n/)
  })

  it('suggests the nearest kind for a misspelled one', async () => {
    const r = await dpuctl(['get', 'scc', '-n', NS])
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "scc"; did you mean "sc"? (dpuctl api-resources lists them)\n' })
  })

  it('prints one table per comma-separated kind with kind.group/name names, and takes name.group kinds', async () => {
    const r = await dpuctl(['get', 'si,sc', '-n', NS])
    expect(r.code).toBe(0)
    const [sis, scs] = r.stdout.split('\n\n')
    expect(sis).toMatch(/^NAME\s+GENERATION\s+READY\s+REASON\s+AGE\nserviceinterface\.svc\.dpu\.nvidia\.com\/g1\s+1\s.*\nserviceinterface\.svc\.dpu\.nvidia\.com\/g2\s+1\s/)
    expect(scs).toMatch(/^NAME\s+GENERATION\s+READY\s+REASON\s+AGE\nservicechain\.svc\.dpu\.nvidia\.com\/c1\s+1\s.*\n$/)
    const qualified = await dpuctl(['get', 'sc.svc.dpu.nvidia.com', '-n', NS, '--no-headers'])
    expect(qualified.stdout).toMatch(/^c1\s+1\s+\S+\s+\S+\s+\d+[smhd]\n$/)
  })

  it('prints -o custom-columns and -o jsonpath in kubectl syntax', async () => {
    const cols = await dpuctl(['get', 'si', '-n', NS, '-o', 'custom-columns=NAME:.metadata.name,PORT:.metadata.labels.port,READY:.status.conditions[?(@.type=="Ready")].status,NOPE:.spec.nope'])
    expect(cols.stdout).toMatch(/^NAME\s+PORT\s+READY\s+NOPE\ng1\s+g1\s+(True|False|Unknown)\s+<none>\ng2\s+g2\s+(True|False|Unknown)\s+<none>\n$/)
    const names = await dpuctl(['get', 'si', '-n', NS, '-o', 'jsonpath={.items[*].metadata.name}'])
    expect(names.stdout).toBe('g1 g2')
    const range = await dpuctl(['get', 'si', '-n', NS, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.interfaceType}{"\\n"}{end}'])
    expect(range.stdout).toBe('g1\tpf\ng2\tpf\n')
    const one = await dpuctl(['get', 'sc', 'c1', '-n', NS, '-o', 'jsonpath={.spec.switches[0].ports[*].serviceInterface.matchLabels.port}'])
    expect(one.stdout).toBe('g1 g2')
    const bad = await dpuctl(['get', 'si', '-o', 'jsonpath={.items['])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^dpuctl get: -o jsonpath: /)
  })

  it('get -w prints the current objects, then the change another dpuctl makes, and stops on SIGINT with 0', async () => {
    const watch = startDpuctl(['get', 'si', '-n', NS, '-w'], { env: appliance.clientEnv })
    try {
      await until('the current table', async () => /^g2\s/m.test(watch.stdout()), 60_000)
      expect(watch.stdout()).toMatch(/^NAME\s+GENERATION\s+READY\s+REASON\s+AGE\ng1\s+1\s.*\ng2\s+1\s/)
      // the stream is open once a change made after the list shows up; keep making one until it does
      const created = await dpuctl(['apply', '-f', '-'], yaml(si('w1')))
      expect(created.stdout).toBe('serviceinterface.svc.dpu.nvidia.com/w1 created\n')
      await until('the new object in the watch', async () => /^w1\s+1\s/m.test(watch.stdout()), 60_000)
      expect((await dpuctl(['delete', 'si', 'w1', '-n', NS])).code).toBe(0)
      await until('the deletion in the watch', async () => (watch.stdout().match(/^w1\s/gm) ?? []).length >= 2, 60_000)
      expect(
        watch
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('NAME')),
      ).toHaveLength(1)
      expect(await watch.stop('SIGINT')).toBe(0)
      expect(watch.stderr()).toBe('')
    } finally {
      await watch.stop('SIGKILL')
    }
  })

  it('get -w ends with 1 and one line when the appliance goes away', async () => {
    const other = await startApplianceProcess({ nodeName: 'dpu-gone' })
    const watch = startDpuctl(['get', 'si', '-A', '--watch-only', '-o', 'name'], { env: other.clientEnv })
    try {
      // the stream is open once a change shows up
      await until(
        'a change in the watch',
        async () => {
          if (watch.stdout().includes('/x1')) return true
          await runDpuctl(['apply', '-f', '-'], { env: other.clientEnv, input: yaml({ ...si('x1', 'default'), spec: { interfaceType: 'pf', pf: { pfID: 0 } } }) })
          await runDpuctl(['delete', 'si', 'x1', '-n', 'default'], { env: other.clientEnv })
          return watch.stdout().includes('/x1')
        },
        90_000,
        500,
      )
      expect(await other.stop('SIGTERM')).toBe(0)
      expect(await watch.exited).toBe(1)
      expect(watch.stderr()).toMatch(
        /^error: lost the watch: the appliance at http:\/\/127\.0\.0\.1:\d+ went away \((other side closed|the stream ended|terminated)\); run the command again to resume\n$/,
      )
    } finally {
      await watch.stop('SIGKILL')
      await other.dispose()
    }
  })

  it('ends quietly with 0 when the reader of a pipe goes away (dpuctl get ... | head -1)', async () => {
    // far more than a pipe buffer (64 KiB), so dpuctl is still writing when head has gone
    const many = Array.from({ length: 300 }, (_, i) => si(`many-${i}`, 'many'))
    expect((await dpuctl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: many }))).code).toBe(0)
    const errFile = join(work, 'epipe.err')
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    const command = `${[process.execPath, ...DPUCTL_ARGS].map(q).join(' ')} get si -n many -o json 2>${q(errFile)} | head -1; echo "dpuctl exit \${PIPESTATUS[0]}"`
    const { stdout } = await promisify(execFile)('bash', ['-c', command], { env: appliance.clientEnv, cwd: REPO_ROOT })
    expect(stdout).toBe('{\ndpuctl exit 0\n')
    expect(readFileSync(errFile, 'utf8')).toBe('')
  })

  it('version prints the client and server versions; without a server, the client line and one error line', async () => {
    expect(await dpuctl(['version'])).toEqual({ code: 0, stdout: `Client Version: v${VERSION}\nServer Version: v${VERSION}\n`, stderr: '' })
    const port = await closedPort()
    const down = await runDpuctl(['--version', '--server', `http://127.0.0.1:${port}`], { env: bareEnv })
    expect(down.code).toBe(1)
    expect(down.stdout).toBe(`Client Version: v${VERSION}\n`)
    expect(down.stderr).toBe(`error: cannot reach the appliance at http://127.0.0.1:${port}: ECONNREFUSED\n`)
    expect(await runDpuctl(['version', '--client'], { env: bareEnv })).toEqual({ code: 0, stdout: `Client Version: v${VERSION}\n`, stderr: '' })
    const json = JSON.parse((await dpuctl(['version', '-o', 'json'])).stdout) as { serverVersion: { gitVersion: string; compiler: string } }
    expect(json.serverVersion).toMatchObject({ gitVersion: `v${VERSION}`, compiler: 'node' })
  })

  it('api-resources lists the kinds in kubectl columns; -o wide adds verbs and level', async () => {
    const r = await dpuctl(['api-resources'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n/)
    expect(r.stdout).toMatch(/^dpuservicechains\s+dsc\s+svc\.dpu\.nvidia\.com\/v1alpha1\s+true\s+DPUServiceChain$/m)
    expect(r.stdout).toMatch(/^bfbs\s+provisioning\.dpu\.nvidia\.com\/v1alpha1\s+true\s+BFB$/m)
    const wide = await dpuctl(['api-resources', '-o', 'wide', '--no-headers'])
    expect(wide.stdout).toMatch(/^servicechains\s+sc\s+svc\.dpu\.nvidia\.com\/v1alpha1\s+true\s+ServiceChain\s+\[create delete get list update watch\]\s+node$/m)
  })

  it('explain dsc.spec.template needs no server', async () => {
    const r = await runDpuctl(['explain', 'dsc.spec.template'], { env: { ...bareEnv, DPUCTL_SERVER: `http://127.0.0.1:${await closedPort()}` } })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^GROUP: {6}svc\.dpu\.nvidia\.com\nKIND: {7}DPUServiceChain\nVERSION: {4}v1alpha1\n\nFIELD: template <Object> -required-\n/)
    expect(r.stdout).toMatch(/^FIELDS:\n {2}metadata\t<Object>\n/m)
    expect(r.stdout).toMatch(/^ {2}spec\t<Object> -required-$/m)
    const missing = await dpuctl(['explain', 'dsc.spec.templat'])
    expect(missing).toMatchObject({ code: 1, stderr: 'error: field "templat" does not exist in DPUServiceChain.spec; did you mean "template"?\n' })
  })

  it('apply -f DIR names the file and line of the document the server refuses', async () => {
    const dir = join(work, 'manifests')
    mkdirSync(dir)
    writeFileSync(join(dir, 'a.yaml'), yaml(si('fine')))
    writeFileSync(
      join(dir, 'b.yaml'),
      `# one good, one bad\n${yaml(si('good'))}---\napiVersion: svc.dpu.nvidia.com/v1alpha1\nkind: ServiceInterface\nmetadata: {name: broken, namespace: ${NS}}\nspec: {interfaceType: physical, pf: {pfID: 0}}\n`,
    )
    const r = await dpuctl(['apply', '-f', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^Error from server \\(Invalid request, 400\\): ${dir}/b\\.yaml:7: ServiceInterface ${NS}/broken: spec\\.physical: `))
    expect(r.stderr).toContain(`\n  ${dir}/b.yaml:7 ServiceInterface ${NS}/broken: spec.physical: `)
    expect(r.stderr).not.toContain('items[')
    expect((await dpuctl(['get', 'si', 'fine', '-n', NS])).code).toBe(1) // all or nothing
  })

  it('applies a .yaml file of JSON documents separated by ---', async () => {
    const file = join(work, 'json-docs.yaml')
    writeFileSync(file, `${JSON.stringify(si('j1'))}\n---\n${JSON.stringify(si('j2'), null, 2)}\n`)
    const r = await dpuctl(['apply', '-f', file])
    expect(r).toEqual({ code: 0, stdout: 'serviceinterface.svc.dpu.nvidia.com/j1 created\nserviceinterface.svc.dpu.nvidia.com/j2 created\n', stderr: '' })
  })

  it('trace with a malformed --packet is a 400 naming the word, not a 503', async () => {
    const r = await dpuctl(['trace', 'c1', '-n', NS, '--from', 'g1', '--packet', 'arp,dl_src 02:00:00:00:00:01'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error from server \(Invalid request, 400\): trace: packet: word 2 "dl_src 02:00:00:00:00:01" is not an ovs-ofctl field or field=value/)
    // a well-formed packet reaches for the switch, which this appliance runs without
    expect((await dpuctl(['trace', 'c1', '-n', NS, '--from', 'g1', '--packet', 'arp'])).stderr).toMatch(/, 503\)/)
  })
})
