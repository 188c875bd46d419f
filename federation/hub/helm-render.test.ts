/**
 * DPUService -> Services through helm. helm is not installed here and must not be re-implemented, so these tests
 * run a FAKE helm: a shell script written by the test (fakeHelm below) that checks its argv like `helm template`
 * would be called, counts its runs in a file, and prints canned manifests (a DaemonSet, a Deployment, ConfigMaps,
 * a Kubernetes Service) or fails on purpose (exit 1, garbage YAML, sleeping past the timeout, no pod template).
 * Everything else is real: processes, pipes, process-group kill, SQLite (hub test), the hub's REST API.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseDocuments, parseObject } from '../../api/resources/registry.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { renderForNode } from '../../api/render/index.js'
import { INTERFACES_YAML, chainYaml, parseManifest } from '../../test/support/federation-fixtures.js'
import { HelmRenderError } from './errors.js'
import { buildHelmArgs } from './helm-run.js'
import { HelmRenderer } from './helm-render.js'
import { extractWorkloads } from './helm-workloads.js'
import { Planner } from './planner.js'
import { startHub } from './hub.js'
import { startAgent } from '../agent/agent.js'
import { AGENT_PORTS } from '../../test/support/agent-ports.js'
import { ManifestDirSource } from './sources/manifest-dir.js'
import type { SnapshotStore } from './source.js'

const CHART = `---
# Source: fw/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: fw-config}
data: {rules.conf: "allow all"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fw-unused}
data: {x: "y"}
---
apiVersion: v1
kind: Service
metadata: {name: fw-metrics}
spec: {ports: [{port: 9100}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fw-agent}
spec:
  selector: {matchLabels: {app: fw-agent}}
  template:
    metadata: {labels: {app: fw-agent}}
    spec:
      containers:
        - name: agent
          image: example.com/fw-agent:1.0
          command: [/bin/fw, --rules, /etc/fw/rules.conf]
          volumeMounts: [{name: rules, mountPath: /etc/fw}]
      volumes:
        - name: rules
          configMap: {name: fw-config}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: fw-ctl}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: fw-ctl}}
    spec:
      containers:
        - name: ctl
          image: example.com/fw-ctl:1.0
`
const ONE = `apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: ignored, labels: {app: solo}, uid: not-a-template-field}
spec:
  containers: [{name: solo, image: example.com/solo:1}]
`
const NO_POD = `apiVersion: v1
kind: ConfigMap
metadata: {name: only-config}
data: {a: b}
`

type Mode = 'chart' | 'slow' | 'one' | 'fail' | 'garbage' | 'sleep' | 'nopod'

interface FakeHelm {
  path: string
  mode(m: Mode): Promise<void>
  runs(): Promise<number>
  argv(): Promise<string[]>
  /** Most `slow` runs alive at once, from their start/end lines. */
  maxOverlap(): Promise<number>
}

/** FAKE helm (a test double, not helm): checks argv, counts runs, prints canned output per mode. */
async function fakeHelm(dir: string): Promise<FakeHelm> {
  await writeFile(join(dir, 'chart.yaml'), CHART)
  await writeFile(join(dir, 'one.yaml'), ONE)
  await writeFile(join(dir, 'nopod.yaml'), NO_POD)
  await writeFile(join(dir, 'mode'), 'chart')
  const path = join(dir, 'fake-helm')
  await writeFile(
    path,
    `#!/bin/sh
# FAKE helm for tests: checks its argv as the hub must call \`helm template\`, counts runs, prints canned YAML.
DIR="${dir}"
echo run >> "$DIR/count"
[ "$1" = template ] || { echo "fake helm: want template, got $1" >&2; exit 64; }
release="$2"; chart="$3"; shift 3
repo=-; version=; ns=; values=
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo="$2"; shift 2;;
    --version) version="$2"; shift 2;;
    --namespace) ns="$2"; shift 2;;
    --values) values="$2"; shift 2;;
    *) echo "fake helm: unexpected argument $1" >&2; exit 64;;
  esac
done
[ -n "$version" ] && [ -n "$ns" ] && [ -r "$values" ] || { echo "fake helm: --version, --namespace and a readable --values are required" >&2; exit 64; }
echo "$release $chart $repo $version $ns $(cat "$values")" >> "$DIR/argv"
case "$(cat "$DIR/mode")" in
  fail) echo "Error: failed to fetch $repo/$chart: 404 Not Found" >&2; exit 1;;
  garbage) printf 'kind: [unclosed\\n  - : :\\n'; exit 0;;
  sleep) sleep 120 & echo $! > "$DIR/sleep.pid"; wait; exit 0;;
  slow) echo start >> "$DIR/events"; sleep 0.3; echo end >> "$DIR/events";;
  nopod) cat "$DIR/nopod.yaml"; exit 0;;
  one) cat "$DIR/one.yaml"; exit 0;;
esac
cat "$DIR/chart.yaml"
`,
  )
  await chmod(path, 0o755)
  return {
    path,
    mode: (m) => writeFile(join(dir, 'mode'), m),
    runs: async () => (existsSync(join(dir, 'count')) ? (await readFile(join(dir, 'count'), 'utf8')).split('\n').filter(Boolean).length : 0),
    argv: async () => (existsSync(join(dir, 'argv')) ? (await readFile(join(dir, 'argv'), 'utf8')).split('\n').filter(Boolean) : []),
    maxOverlap: async () => {
      let now = 0
      let max = 0
      for (const line of (await readFile(join(dir, 'events'), 'utf8')).split('\n')) max = Math.max(max, (now += line === 'start' ? 1 : line === 'end' ? -1 : 0))
      return max
    },
  }
}

function serviceYaml(values: string, extra = ''): string {
  return `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUService
metadata: {name: fw, namespace: dpf-operator-system}
spec:
  serviceID: fw
  interfaces: [p0-sf]
  serviceDaemonSet: {labels: {team: net}, annotations: {note: from-dpuservice}}
  helmChart:
    source: {repoURL: "https://charts.example.com/stable", chart: fw, version: 1.2.3}
    values: ${values}
${extra}`
}

const parse = (text: string): ParsedObject[] => parseDocuments(text).map((r) => parseObject(r))
const fleetOf = (values = '{replicas: 1}', extra = ''): ParsedObject[] => parse([INTERFACES_YAML, chainYaml('fw-chain', 'a'), serviceYaml(values, extra)].join('\n---\n'))
const dpus = [
  { name: 'dpu-1', labels: { zone: 'a' } },
  { name: 'dpu-2', labels: { zone: 'b' } },
]
const SERVICE_KEYS = ['svc.dpu.nvidia.com/v1alpha1/Service/dpf-operator-system/fw-fw-agent', 'svc.dpu.nvidia.com/v1alpha1/Service/dpf-operator-system/fw-fw-ctl']

function memoryStore(): SnapshotStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, load: () => new Map(map), put: (k, v) => void map.set(k, v), delete: (k) => void map.delete(k) }
}

let work: string
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  if (work) await rm(work, { recursive: true, force: true })
})

async function setup(opts: Partial<ConstructorParameters<typeof HelmRenderer>[0]> = {}, store: SnapshotStore = memoryStore()) {
  work = await mkdtemp(join(tmpdir(), 'hub-helm-'))
  const helm = await fakeHelm(work)
  const renderer = new HelmRenderer({ helmPath: helm.path, timeoutMs: 30_000, retryMs: { min: 600_000, max: 600_000 }, ...opts })
  renderer.useStore(store)
  cleanups.push(() => renderer.stop())
  const planner = new Planner(renderer.wrap((obj, node) => renderForNode(obj, node)))
  renderer.onChange((objs) => planner.invalidate(objs))
  /** What the hub does with a fleet: hand it to the renderer and the planner; `settled` waits for helm. */
  const apply = async (fleet: ParsedObject[], settled = true): Promise<void> => {
    const done = renderer.prepare(fleet)
    planner.setFleet(fleet)
    if (settled) await done
  }
  const objectsOf = (dpu: (typeof dpus)[number]) => planner.desiredFor(dpu).objects
  const rendered = () => renderer.conditions()['svc.dpu.nvidia.com/v1alpha1/DPUService/dpf-operator-system/fw']?.[0]
  return { helm, renderer, planner, apply, objectsOf, rendered }
}

describe('extractWorkloads', () => {
  it('takes the pod template of each DaemonSet/Deployment and inlines only the ConfigMaps they use', () => {
    const w = extractWorkloads(CHART)
    expect(w.map((x) => `${x.kind}/${x.name}`)).toEqual(['DaemonSet/fw-agent', 'Deployment/fw-ctl'])
    expect(w[0]!.configMaps).toEqual({ 'fw-config': { 'rules.conf': 'allow all' } })
    expect(w[1]!.configMaps).toEqual({})
    expect(w[0]!.template.spec.containers[0]).toMatchObject({ name: 'agent', image: 'example.com/fw-agent:1.0' })
  })

  it("takes a Pod's spec and only its labels and annotations as template metadata", () => {
    expect(extractWorkloads(ONE)).toEqual([
      { kind: 'Pod', name: 'solo', configMaps: {}, template: { metadata: { labels: { app: 'solo' } }, spec: { containers: [{ name: 'solo', image: 'example.com/solo:1' }] } } },
    ])
  })

  it.each<[string, string, string, RegExp]>([
    ['YAML that does not parse', 'kind: [unclosed\n  - : :\n', 'ChartOutputInvalid', /document 1/],
    ['a document that is not an object', '- a\n- b\n', 'ChartOutputInvalid', /not a Kubernetes object/],
    ['a DaemonSet without containers', 'kind: DaemonSet\nmetadata: {name: d}\nspec: {template: {spec: {containers: []}}}\n', 'ChartOutputInvalid', /DaemonSet d.*not a pod template/],
    ['only ConfigMaps', NO_POD, 'NoPodTemplate', /no DaemonSet, Deployment, StatefulSet, Pod/],
    ['nothing at all', '', 'NoPodTemplate', /nothing to run/],
  ])('refuses %s', (_name, text, reason, message) => {
    let err: unknown
    try {
      extractWorkloads(text)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(HelmRenderError)
    expect((err as HelmRenderError).reason).toBe(reason)
    expect((err as HelmRenderError).message).toMatch(message)
  })

  it('names the field path of a broken pod template', () => {
    try {
      extractWorkloads('kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{image: x}]}}}\n')
      expect.unreachable()
    } catch (err) {
      expect((err as HelmRenderError).issues.map((i) => i.path)).toEqual(['spec.template.spec.containers[0].name'])
    }
  })
})

describe('buildHelmArgs', () => {
  it.each<[string, Parameters<typeof buildHelmArgs>[2], string[]]>([
    [
      'an https repository',
      { repoURL: 'https://helm.ngc.nvidia.com/nvidia/doca', chart: 'doca-hbn', version: '1.0.1' },
      ['template', 'hbn', 'doca-hbn', '--repo', 'https://helm.ngc.nvidia.com/nvidia/doca', '--version', '1.0.1'],
    ],
    ['an oci:// repository', { repoURL: 'oci://ghcr.io/nvidia/charts/', chart: 'dts', version: '2.0.0' }, ['template', 'hbn', 'oci://ghcr.io/nvidia/charts/dts', '--version', '2.0.0']],
    ['an oci:// chart reference', { repoURL: 'oci://ghcr.io/nvidia/charts/dts', version: '2.0.0' }, ['template', 'hbn', 'oci://ghcr.io/nvidia/charts/dts', '--version', '2.0.0']],
  ])('builds helm template argv for %s', (_name, source, head) => {
    expect(buildHelmArgs('hbn', 'ns', source, '/tmp/v.yaml')).toEqual([...head, '--namespace', 'ns', '--values', '/tmp/v.yaml'])
  })

  it.each<[string, string, Parameters<typeof buildHelmArgs>[2], RegExp]>([
    ['a git path source', 'hbn', { repoURL: 'https://github.com/x/y.git', path: 'charts/hbn', version: 'main' }, /git repository/],
    ['a release name that would read as a flag', '--post-renderer=x', { repoURL: 'https://r', chart: 'c', version: '1' }, /release name/],
    ['a chart that would read as a flag', 'hbn', { repoURL: 'https://r', chart: '--kube-context', version: '1' }, /not a chart name/],
    ['a version that would read as a flag', 'hbn', { repoURL: 'https://r', chart: 'c', version: '--devel' }, /must not start with "-"/],
  ])('refuses %s (ChartSourceUnsupported)', (_name, release, source, message) => {
    expect(() => buildHelmArgs(release, 'ns', source, '/tmp/v.yaml')).toThrow(message)
  })
})

describe('HelmRenderer with a FAKE helm', () => {
  it('renders one Service per pod template for every DPU, with serviceID, interfaces and inlined ConfigMaps', async () => {
    const { helm, apply, objectsOf, rendered } = await setup()
    await apply(fleetOf())
    expect(rendered()).toMatchObject({ type: 'Rendered', status: 'True', reason: 'Rendered' })
    // Values as DPF hands them to its charts: serviceDaemonSet (with the serviceID label) merged over spec values.
    expect(await helm.argv()).toEqual([
      'fw fw https://charts.example.com/stable 1.2.3 dpf-operator-system {"serviceDaemonSet":{"labels":{"team":"net","svc.dpu.nvidia.com/service":"fw"},"annotations":{"note":"from-dpuservice"}},"replicas":1}',
    ])
    for (const dpu of dpus) {
      const objects = objectsOf(dpu)
      const [agent, ctl] = SERVICE_KEYS.map((k) => objects.get(k)?.object)
      expect(agent).toEqual({
        apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
        kind: 'Service',
        metadata: { name: 'fw-fw-agent', namespace: 'dpf-operator-system', annotations: { 'dpu.appliance/rendered-from': 'DPUService/dpf-operator-system/fw' } },
        spec: {
          serviceID: 'fw',
          interfaces: [{ network: 'mybr', interfaceName: 'p0_if' }],
          configMaps: { 'fw-config': { 'rules.conf': 'allow all' } },
          template: {
            metadata: { labels: { app: 'fw-agent', team: 'net' }, annotations: { note: 'from-dpuservice' } },
            // As validated: Kubernetes' defaults filled in (restartPolicy Always).
            spec: { restartPolicy: 'Always', ...extractWorkloads(CHART)[0]!.template.spec },
          },
        },
      })
      expect(ctl?.spec).toMatchObject({ serviceID: 'fw', template: { spec: { containers: [{ name: 'ctl', image: 'example.com/fw-ctl:1.0' }] } } })
      expect((ctl?.spec as Record<string, unknown>).configMaps).toBeUndefined()
    }
    // The rest of the fleet flows beside it: the chain reaches the DPU its nodeSelector picks.
    expect(objectsOf(dpus[0]!).has('svc.dpu.nvidia.com/v1alpha1/ServiceChain/dpf-operator-system/fw-chain')).toBe(true)
    expect(objectsOf(dpus[1]!).has('svc.dpu.nvidia.com/v1alpha1/ServiceChain/dpf-operator-system/fw-chain')).toBe(false)
  })

  it('names the Service like the DPUService when the chart renders one pod template', async () => {
    const { helm, apply, objectsOf } = await setup()
    await helm.mode('one')
    await apply(fleetOf())
    const svc = objectsOf(dpus[0]!).get('svc.dpu.nvidia.com/v1alpha1/Service/dpf-operator-system/fw')?.object
    expect(svc?.spec).toMatchObject({ serviceID: 'fw', template: { metadata: { labels: { app: 'solo', team: 'net' } } } })
  })

  it('runs helm once per distinct input, not per DPU or per fleet snapshot, and again when values change', async () => {
    const { helm, apply, objectsOf } = await setup()
    await apply(fleetOf())
    for (let i = 0; i < 50; i++) objectsOf({ name: `dpu-${i}`, labels: { zone: String(i % 3) } })
    await apply(fleetOf()) // a new snapshot of the same content: new objects, same inputs
    await apply(fleetOf('{replicas: 1}', '  paused: false')) // a change helm does not see
    expect(await helm.runs()).toBe(1)
    await apply(fleetOf('{replicas: 2}'))
    expect(await helm.runs()).toBe(2)
    expect((await helm.argv())[1]).toMatch(/,"replicas":2\}$/)
  })

  it('keeps serving its renders across a restart without running helm again (last good output in the store)', async () => {
    const store = memoryStore()
    const first = await setup({}, store)
    await first.apply(fleetOf())
    const before = first.objectsOf(dpus[0]!)
    expect(store.map.size).toBe(1)
    const runs = await first.helm.runs()
    // A restarted hub: a new renderer over the same store, and even helm gone.
    const renderer = new HelmRenderer({ helmPath: undefined })
    renderer.useStore(store)
    const planner = new Planner(renderer.wrap((obj, node) => renderForNode(obj, node)))
    const done = renderer.prepare(fleetOf())
    planner.setFleet(fleetOf())
    // Served at once, before (and whatever) helm says.
    const after = planner.desiredFor(dpus[0]!).objects
    expect(SERVICE_KEYS.map((k) => after.get(k)?.hash)).toEqual(SERVICE_KEYS.map((k) => before.get(k)?.hash))
    await done
    expect(await first.helm.runs()).toBe(runs)
  })

  it('without a helm binary: Rendered=False (HelmNotConfigured), no Service, and the rest of the fleet still flows', async () => {
    const { apply, objectsOf, rendered } = await setup({ helmPath: undefined })
    await apply(fleetOf())
    expect(rendered()).toMatchObject({ status: 'False', reason: 'HelmNotConfigured', message: expect.stringMatching(/--helm PATH/) })
    const objects = objectsOf(dpus[0]!)
    expect([...objects.keys()].filter((k) => k.includes('/Service/'))).toEqual([])
    expect(objects.has('svc.dpu.nvidia.com/v1alpha1/ServiceChain/dpf-operator-system/fw-chain')).toBe(true)
    expect(objects.has('svc.dpu.nvidia.com/v1alpha1/ServiceInterface/dpf-operator-system/p0-sf')).toBe(true)
  })

  it('with a helm path that is not executable: Rendered=False (HelmNotExecutable)', async () => {
    const { apply, rendered } = await setup({ helmPath: '/nonexistent/helm' })
    await apply(fleetOf())
    expect(rendered()).toMatchObject({ status: 'False', reason: 'HelmNotExecutable', message: expect.stringMatching(/\/nonexistent\/helm/) })
  })

  it.each<[Mode, string, RegExp]>([
    ['fail', 'HelmFailed', /exited with code 1: Error: failed to fetch https:\/\/charts.example.com\/stable\/fw: 404 Not Found/],
    ['garbage', 'ChartOutputInvalid', /document 1/],
    ['nopod', 'NoPodTemplate', /nothing to run/],
    ['sleep', 'HelmTimeout', /did not finish within 1500 ms/],
  ])(
    'a render that fails (%s) gives Rendered=False (%s) and keeps the Services rendered before',
    async (mode, reason, message) => {
      const { helm, apply, objectsOf, rendered } = await setup({ timeoutMs: 1500 })
      await apply(fleetOf())
      const before = objectsOf(dpus[0]!)
      await helm.mode(mode)
      await apply(fleetOf('{replicas: 3}'))
      expect(rendered()).toMatchObject({ status: 'False', reason, message: expect.stringMatching(message) })
      expect(rendered()!.message).toMatch(/DPUs keep the 2 Service\(s\) rendered before/)
      const after = objectsOf(dpus[0]!)
      expect(SERVICE_KEYS.map((k) => after.get(k)?.hash)).toEqual(SERVICE_KEYS.map((k) => before.get(k)?.hash))
      expect(after.size).toBe(before.size)
    },
    60_000,
  )

  it('a DPUServiceInterface that disappears gives Rendered=False (InterfaceNotFound) and keeps the Services', async () => {
    const { apply, objectsOf, rendered } = await setup()
    await apply(fleetOf())
    const before = objectsOf(dpus[1]!)
    await apply(fleetOf().filter((o) => o.metadata.name !== 'p0-sf'))
    expect(rendered()).toMatchObject({ status: 'False', reason: 'InterfaceNotFound', message: expect.stringMatching(/no DPUServiceInterface dpf-operator-system\/p0-sf/) })
    const after = objectsOf(dpus[1]!)
    expect(SERVICE_KEYS.map((k) => after.get(k)?.hash)).toEqual(SERVICE_KEYS.map((k) => before.get(k)?.hash))
  })

  it('tells the planner when a render lands, so a fleet planned before helm finished gets the Services', async () => {
    const { apply, objectsOf, renderer } = await setup()
    const fleet = fleetOf()
    await apply(fleet, false)
    expect([...objectsOf(dpus[0]!).keys()].filter((k) => k.includes('/Service/'))).toEqual([])
    await renderer.prepare(fleet) // the same objects: waits for the render already running
    expect(SERVICE_KEYS.every((k) => objectsOf(dpus[0]!).has(k))).toBe(true)
  })

  it('renders the newest values when they change while helm still runs the older ones', async () => {
    const { helm, apply, objectsOf, rendered } = await setup()
    await helm.mode('slow')
    await apply(fleetOf('{replicas: 1}'), false)
    await apply(fleetOf('{replicas: 2}'))
    // True only when the output is that of the current inputs (replicas 2); both runs may overlap, so which wrote
    // its argv line last says nothing.
    expect(rendered()).toMatchObject({ status: 'True' })
    expect((await helm.argv()).filter((l) => /,"replicas":2\}$/.test(l))).toHaveLength(1)
    expect(SERVICE_KEYS.every((k) => objectsOf(dpus[0]!).has(k))).toBe(true)
  })

  it('runs at most `concurrency` helm processes at once', async () => {
    const { helm, apply } = await setup({ concurrency: 2 })
    await helm.mode('slow')
    const many = Array.from({ length: 5 }, (_, i) => serviceYaml(`{n: ${i}}`).replace('name: fw,', `name: fw${i},`))
    await apply(parse([INTERFACES_YAML, ...many].join('\n---\n')))
    expect(await helm.runs()).toBe(5)
    expect(await helm.maxOverlap()).toBeLessThanOrEqual(2)
  })
})

describe('serviceDaemonSet.nodeSelector (a corev1.NodeSelector) with a FAKE helm', () => {
  const withSelector = (nodeSelector: string) =>
    parse([INTERFACES_YAML, serviceYaml('{replicas: 1}').replace('serviceDaemonSet: {labels: {team: net},', `serviceDaemonSet: {nodeSelector: ${nodeSelector}, labels: {team: net},`)].join('\n---\n'))
  const has = (objects: ReadonlyMap<string, unknown>) => SERVICE_KEYS.map((k) => objects.has(k))

  it.each<[string, string, [boolean, boolean]]>([
    ['a term on a label', '{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}', [true, false]],
    ['terms ORed', '{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [x]}]}, {matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}]}', [false, true]],
    ['matchFields on the node name', '{nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [dpu-2]}]}]}', [false, true]],
    ['no terms', '{nodeSelectorTerms: []}', [false, false]],
  ])('gives the Services only to the DPUs it selects (%s), rendering helm once for all', async (_name, selector, [one, two]) => {
    const { helm, apply, objectsOf } = await setup()
    await apply(withSelector(selector))
    expect(has(objectsOf(dpus[0]!))).toEqual([one, one])
    expect(has(objectsOf(dpus[1]!))).toEqual([two, two])
    // The rest of the fleet is unaffected.
    expect(objectsOf(dpus[1]!).has('svc.dpu.nvidia.com/v1alpha1/ServiceInterface/dpf-operator-system/p0-sf')).toBe(true)
    expect(await helm.runs()).toBe(1)
  })

  it('moves the Services when a DPU is relabelled', async () => {
    const { apply, planner } = await setup()
    await apply(withSelector('{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}'))
    expect(has(planner.desiredFor({ name: 'dpu-2', labels: { zone: 'b' } }).objects)).toEqual([false, false])
    expect(has(planner.desiredFor({ name: 'dpu-2', labels: { zone: 'a' } }).objects)).toEqual([true, true])
  })
})

const DEPLOYMENT_KEY = 'svc.dpu.nvidia.com/v1alpha1/DPUDeployment/dpf-operator-system/edge'
const GENERATED_KEY = 'svc.dpu.nvidia.com/v1alpha1/DPUService/dpf-operator-system/edge-fw'
const GENERATED_SERVICES = ['svc.dpu.nvidia.com/v1alpha1/Service/dpf-operator-system/edge-fw-fw-agent', 'svc.dpu.nvidia.com/v1alpha1/Service/dpf-operator-system/edge-fw-fw-ctl']
const TEMPLATE_YAML = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceTemplate
metadata: {name: fw-template, namespace: dpf-operator-system}
spec:
  deploymentServiceName: fw
  helmChart:
    source: {repoURL: "https://charts.example.com/stable", chart: fw, version: 1.2.3}
    values: {image: {repository: example.com/fw, tag: from-template}, replicas: 1}
`
const CONFIGURATION_YAML = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUServiceConfiguration
metadata: {name: fw-configuration, namespace: dpf-operator-system}
spec:
  deploymentServiceName: fw
  serviceConfiguration:
    helmChart: {values: {image: {tag: from-configuration}}}
    serviceDaemonSet: {labels: {team: edge}}
`
const DEPLOYMENT_YAML = `apiVersion: svc.dpu.nvidia.com/v1alpha1
kind: DPUDeployment
metadata: {name: edge, namespace: dpf-operator-system}
spec:
  dpus:
    bfb: bf-bundle
    flavor: dpf-provisioning-hbn-ovn
    dpuSets:
      - nameSuffix: zone-a
        nodeSelector: {matchLabels: {zone: a}}
  services:
    fw: {serviceTemplate: fw-template, serviceConfiguration: fw-configuration}
`
const deploymentFleet = (...without: string[]) => parse([TEMPLATE_YAML, CONFIGURATION_YAML, DEPLOYMENT_YAML].filter((y) => !without.some((w) => y.includes(`name: ${w},`))).join('\n---\n'))

describe('DPUDeployment services with a FAKE helm', () => {
  it('renders each service entry as the DPUService DPF generates (merged values, configuration wins) for the DPUs its dpuSets select', async () => {
    const { helm, apply, objectsOf, renderer } = await setup()
    await apply(deploymentFleet())
    // helm saw the merged values, with the configuration's tag, DPF's serviceID label and the dpuSets' selector.
    expect(await helm.argv()).toEqual([
      'edge-fw fw https://charts.example.com/stable 1.2.3 dpf-operator-system ' +
        JSON.stringify({
          serviceDaemonSet: {
            nodeSelector: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
            labels: { team: 'edge', 'svc.dpu.nvidia.com/service': 'dpudeployment_edge_fw' },
          },
          image: { tag: 'from-configuration', repository: 'example.com/fw' },
          replicas: 1,
        }),
    ])
    const agent = objectsOf(dpus[0]!).get(GENERATED_SERVICES[0]!)?.object
    expect(agent?.metadata.annotations).toEqual({ 'dpu.appliance/rendered-from': 'DPUService/dpf-operator-system/edge-fw' })
    expect(agent?.spec).toMatchObject({ serviceID: 'dpudeployment_edge_fw', template: { metadata: { labels: { app: 'fw-agent', team: 'edge' } } } })
    expect(GENERATED_SERVICES.every((k) => objectsOf(dpus[0]!).has(k))).toBe(true)
    expect(GENERATED_SERVICES.some((k) => objectsOf(dpus[1]!).has(k))).toBe(false)
    expect(renderer.conditions()[DEPLOYMENT_KEY]).toEqual([expect.objectContaining({ type: 'PrerequisitesReady', status: 'True', message: 'generated DPUServices edge-fw' })])
    expect(renderer.conditions()[GENERATED_KEY]).toEqual([expect.objectContaining({ type: 'Rendered', status: 'True' })])
  })

  it.each<[string, string, string, RegExp]>([
    ['the template', 'fw-template', 'TemplateNotFound', /DPUServiceTemplate dpf-operator-system\/fw-template not found/],
    ['the configuration', 'fw-configuration', 'ConfigurationNotFound', /DPUServiceConfiguration dpf-operator-system\/fw-configuration not found/],
  ])('without %s: PrerequisitesReady=False (%s), no crash, and DPUs keep the Services rendered before, across a hub restart', async (_name, missing, reason, message) => {
    const store = memoryStore()
    const deployments = memoryStore()
    const { apply, objectsOf, renderer, helm } = await setup({}, store)
    renderer.useStore(store, deployments)
    await apply(deploymentFleet())
    const before = objectsOf(dpus[0]!)
    await apply(deploymentFleet(missing))
    expect(renderer.conditions()[DEPLOYMENT_KEY]).toEqual([expect.objectContaining({ type: 'PrerequisitesReady', status: 'False', reason, message: expect.stringMatching(message) })])
    expect(renderer.conditions()[DEPLOYMENT_KEY]![0]!.message).toMatch(/DPUs keep the Services of the 1 DPUService\(s\) generated before/)
    const after = objectsOf(dpus[0]!)
    expect(GENERATED_SERVICES.map((k) => after.get(k)?.hash)).toEqual(GENERATED_SERVICES.map((k) => before.get(k)?.hash))

    // A restarted hub (no helm at all) with the prerequisite still missing serves the same Services at once.
    const restarted = new HelmRenderer({ helmPath: undefined })
    restarted.useStore(store, deployments)
    cleanups.push(() => restarted.stop())
    const planner = new Planner(restarted.wrap((obj, node) => renderForNode(obj, node)))
    const done = restarted.prepare(deploymentFleet(missing))
    planner.setFleet(deploymentFleet(missing))
    const served = planner.desiredFor(dpus[0]!).objects
    expect(GENERATED_SERVICES.map((k) => served.get(k)?.hash)).toEqual(GENERATED_SERVICES.map((k) => before.get(k)?.hash))
    await done
    expect(restarted.conditions()[DEPLOYMENT_KEY]?.[0]).toMatchObject({ status: 'False', reason })
    expect(await helm.runs()).toBe(1)
  })

  it('follows a configuration change (new values: helm again) and drops the Services when the deployment is deleted', async () => {
    const { helm, apply, objectsOf } = await setup()
    await apply(deploymentFleet())
    await apply(parse([TEMPLATE_YAML, CONFIGURATION_YAML.replace('from-configuration', 'v2'), DEPLOYMENT_YAML].join('\n---\n')))
    expect(await helm.runs()).toBe(2)
    expect((await helm.argv())[1]).toContain('"tag":"v2"')
    expect(GENERATED_SERVICES.every((k) => objectsOf(dpus[0]!).has(k))).toBe(true)
    await apply(deploymentFleet('edge'))
    expect(GENERATED_SERVICES.some((k) => objectsOf(dpus[0]!).has(k))).toBe(false)
  })

  it('lets a hand-written DPUService with the generated name win, and says so on the deployment', async () => {
    const { apply, renderer } = await setup()
    const clash = serviceYaml('{replicas: 1}').replace('name: fw,', 'name: edge-fw,').replace('  interfaces: [p0-sf]\n', '')
    await apply(parse([TEMPLATE_YAML, CONFIGURATION_YAML, DEPLOYMENT_YAML, clash].join('\n---\n')))
    expect(renderer.conditions()[DEPLOYMENT_KEY]?.[0]).toMatchObject({ status: 'False', reason: 'DPUServiceNameConflict' })
    expect(renderer.conditions()[GENERATED_KEY]?.[0]).toMatchObject({ status: 'True' })
  })
})

/** A hub (insecure, REST on) over a manifest directory, rendering charts with `helm`. */
async function startHelmHub(helm: FakeHelm, manifests: string) {
  const renderer = new HelmRenderer({ helmPath: helm.path, timeoutMs: 30_000 })
  const h = await startHub({
    dataDir: join(work, 'hub'),
    listen: '127.0.0.1:0',
    apiListen: '127.0.0.1:0',
    tls: 'insecure',
    sources: [new ManifestDirSource({ dir: manifests, parse: parseManifest, debounceMs: 50 })],
    render: renderer.wrap((obj, node) => renderForNode(obj, node)),
    helm: renderer,
  })
  cleanups.push(() => h.stop())
  return h
}

describe('hub with a FAKE helm', () => {
  it('pushes rendered Services into DPU sets and reports Rendered in /v1/fleet', async () => {
    const { helm } = await setup()
    const manifests = join(work, 'manifests')
    await mkdir(manifests)
    await writeFile(join(manifests, 'fleet.yaml'), [INTERFACES_YAML, chainYaml('fw-chain', 'a'), serviceYaml('{replicas: 1}')].join('\n---\n'))
    const h = await startHelmHub(helm, manifests)
    const fleet = async () => (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet`)).json()) as { objectConditions: Record<string, Array<{ type: string; status: string; reason: string }>> }
    const deadline = Date.now() + 30_000
    while (!SERVICE_KEYS.every((k) => h.planner.desiredFor(dpus[0]!).objects.has(k)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(SERVICE_KEYS.every((k) => h.planner.desiredFor(dpus[0]!).objects.has(k))).toBe(true)
    expect((await fleet()).objectConditions['svc.dpu.nvidia.com/v1alpha1/DPUService/dpf-operator-system/fw']).toEqual([expect.objectContaining({ type: 'Rendered', status: 'True' })])
    expect(await helm.runs()).toBe(1)
  }, 60_000)
  it("delivers a DPUDeployment's service to the DPU its dpuSets select, as a Service with the merged values, over gRPC into the appliance store", async () => {
    const { helm } = await setup()
    const manifests = join(work, 'manifests')
    await mkdir(manifests)
    // The interfaces go to every DPU, so dpu-2 also syncs a revision (of objects that are not Services).
    await writeFile(join(manifests, 'fleet.yaml'), [INTERFACES_YAML, TEMPLATE_YAML, CONFIGURATION_YAML, DEPLOYMENT_YAML].join('\n---\n'))
    const h = await startHelmHub(helm, manifests)
    const appliance = AGENT_PORTS.find((k) => k.name.startsWith('appliance'))!
    const ports = dpus.map((d) => appliance.open(work, d.name))
    for (const p of ports) cleanups.push(() => p.close())
    for (const [i, d] of dpus.entries()) {
      const a = startAgent({ hub: `127.0.0.1:${h.grpcPort}`, dpuName: d.name, tls: 'insecure', labels: d.labels, port: ports[i]!.port, backoff: { initialMs: 50, maxMs: 200 } })
      cleanups.push(() => a.stop())
    }
    const services = (i: number) => ports[i]!.objects().filter((o) => o.object.kind === 'Service')
    const deadline = Date.now() + 30_000
    while (services(0).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(
      services(0)
        .map((o) => o.object.metadata.name)
        .sort(),
    ).toEqual(['edge-fw-fw-agent', 'edge-fw-fw-ctl'])
    expect(services(0)[0]!.object.spec).toMatchObject({ serviceID: 'dpudeployment_edge_fw' })
    // The FAKE helm printed canned pods; the merged values it was given are what reached the chart.
    expect((await helm.argv())[0]).toContain('"image":{"tag":"from-configuration","repository":"example.com/fw"}')
    // dpu-2 (zone b) is synced (it holds the interfaces) but holds none of them.
    while (ports[1]!.objects().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(
      ports[1]!
        .objects()
        .map((o) => `${o.object.kind}/${o.object.metadata.name}`)
        .sort(),
    ).toEqual(['ServiceInterface/p0', 'ServiceInterface/p0-sf'])
    expect(ports[0]!.objects()).toHaveLength(4)
    const fleet = (await (await fetch(`http://127.0.0.1:${h.apiPort}/v1/fleet`)).json()) as { objectConditions: Record<string, Array<{ type: string; status: string }>> }
    expect(fleet.objectConditions[DEPLOYMENT_KEY]).toEqual([expect.objectContaining({ type: 'PrerequisitesReady', status: 'True' })])
    expect(fleet.objectConditions[GENERATED_KEY]).toEqual([expect.objectContaining({ type: 'Rendered', status: 'True' })])
  }, 60_000)
})
