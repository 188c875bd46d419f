/**
 * The demo fleet behind `dpuctl demo`: a development PKI, a federation hub over the sample fleet, and one
 * appliance per DPU of the sample registry, each on its own private Open vSwitch (ovs-sandbox.ts: vswitchd in
 * a private netns) with a veth standing in for its uplink p0 whose peer sits in an "external" namespace.
 * Every process is a real `dpuctl` child (hub run, appliance run) stopped by pid; `stop()` undoes everything
 * in reverse order (appliances, hub, OVS, namespaces, temp dir), also after a partial start.
 *
 * Names are per run: the external namespaces come from netns.ts (`dx-<pid36>-<n>`) and each appliance gets
 * `--service-netns-prefix d<letter><pid36>-`, so service namespaces of two DPUs (and of two demos) never
 * collide, and cleanup removes exactly the namespaces this run's appliances created.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { cpSync, createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, type WriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { parseDocuments, parseObject } from '../../api/resources/registry.js'
import type { ParsedObject } from '../../api/resources/kind.js'
import { renderForNode } from '../../api/render/index.js'
import { listNetns } from '../../appliance/runtime/ports/link.js'
import { initDevPki, issueDpuCertificate } from '../../federation/certs/openssl.js'
import { guardPid, releasePid } from './exit-guard.js'
import { Cleanup, createNetns, createVethPair, exec, ping } from './netns.js'
import { ovsAvailable, startOvsSandbox, type OvsSandbox } from './ovs-sandbox.js'

const SVC = 'svc.dpu.nvidia.com/v1alpha1'
/** Outside end of each DPU's uplink stand-in, and the address the demo gives each service interface. */
export const EXTERNAL_ADDR = '10.77.0.1'
export const SERVICE_ADDR = '10.77.0.2'

/** What the demo needs from this machine; each missing piece as one line saying how to get it. Empty: ready. */
export function demoPreflight(env: { uid: number | undefined; ovs: boolean; tools: Record<string, boolean> }): string[] {
  const missing: string[] = []
  if (env.uid !== 0) missing.push('root: the demo creates network namespaces and runs ovs-vswitchd (run it with sudo, e.g. `sudo make demo`)')
  if (!env.ovs) {
    missing.push('Open vSwitch (ovsdb-server, ovs-vswitchd): `make setup` installs it as root, or apt-get install -y openvswitch-switch')
  }
  for (const [tool, ok] of Object.entries(env.tools)) {
    if (!ok) missing.push(`${tool}: apt-get install -y ${TOOL_PACKAGES[tool] ?? tool}`)
  }
  return missing
}

const TOOL_PACKAGES: Record<string, string> = { ip: 'iproute2', ping: 'iputils-ping', openssl: 'openssl', ethtool: 'ethtool' }

/** Probes this machine for demoPreflight. */
export function probeDemoHost(): Parameters<typeof demoPreflight>[0] {
  const has = (tool: string): boolean => ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')].some((d) => d && existsSync(join(d, tool)))
  return { uid: process.getuid?.(), ovs: ovsAvailable(), tools: Object.fromEntries(Object.keys(TOOL_PACKAGES).map((t) => [t, has(t)])) }
}

export interface DemoFleetOptions {
  /** argv that runs dpuctl (this program): `[node, ...execArgv, script]`. */
  dpuctl: readonly string[]
  /** The sample fleet: `manifests/` and `dpus.yaml`. */
  samplesDir: string
  /** Progress lines for the user. */
  progress?: (line: string) => void
  /** Seconds to wait for each process and for the first sync (default 60). */
  timeoutS?: number
}

export interface DemoDpu {
  name: string
  labels: Record<string, string>
  url: string
  tokenFile: string
  dataDir: string
  logFile: string
  pid: number
  ovs: OvsSandbox
  /** Namespace of the outside end of p0 (ext0, EXTERNAL_ADDR). */
  extNetns: string
  serviceNetnsPrefix: string
  /** Objects the hub should render for this DPU from the current manifests, as `Kind/name`. */
  expected(): string[]
}

export interface DemoHub {
  grpc: string
  apiUrl: string
  pid: number
  logFile: string
}

export interface DemoFleet {
  dir: string
  manifests: string
  hub: DemoHub
  dpus: DemoDpu[]
  /** Stops everything started, in reverse order, and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>
}

interface Child {
  child: ChildProcess
  log: WriteStream
  /** Resolves with the first line `match` accepts (stdout or stderr); rejects if the process exits first. */
  waitFor<T>(match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T>
  stop(): Promise<void>
}

function spawnDpuctl(dpuctl: readonly string[], args: string[], logFile: string): Child {
  const [cmd, ...pre] = dpuctl
  const child = spawn(cmd as string, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } })
  guardPid(child.pid)
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      releasePid(child.pid)
      resolve(code ?? signal ?? 'unknown')
    }),
  )
  const log = createWriteStream(logFile, { flags: 'a' })
  const lines: string[] = []
  const listeners = new Set<(line: string) => void>()
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = ''
    stream.on('data', (d: Buffer) => {
      log.write(d)
      buf += d.toString('utf8')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        if (lines.length > 200) lines.shift()
        for (const l of listeners) l(line)
      }
    })
  }
  return {
    child,
    log,
    waitFor(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error, v?: unknown) => {
          clearTimeout(timer)
          listeners.delete(onLine)
          if (err) reject(err)
          else resolve(v as never)
        }
        const onLine = (line: string) => {
          const v = match(line)
          if (v !== undefined) done(undefined, v)
        }
        const timer = setTimeout(() => done(new Error(`${what}: not ready after ${timeoutMs / 1000} s; last output (${logFile}):\n${lines.slice(-15).join('\n')}`)), timeoutMs)
        listeners.add(onLine)
        void exited.then((code) => done(new Error(`${what} exited (${code}) before it was ready; last output (${logFile}):\n${lines.slice(-15).join('\n')}`)))
      })
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      await new Promise<void>((r) => log.end(r))
    },
  }
}

function readRegistry(file: string): Array<{ name: string; labels: Record<string, string> }> {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { dpus?: Record<string, { labels?: Record<string, string> }> }
  return Object.entries(doc.dpus ?? {}).map(([name, v]) => ({ name, labels: v.labels ?? {} }))
}

/** Node objects the hub renders for `node` from every manifest in `dir`, as sorted `Kind/name`. */
export function renderExpected(dir: string, node: { name: string; labels: Record<string, string> }): string[] {
  const fleet: ParsedObject[] = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .flatMap((f) => parseDocuments(readFileSync(join(dir, f), 'utf8'), f).map((raw) => parseObject(raw, f)))
  return fleet
    .flatMap((o) => renderForNode(o, node))
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort()
}

/** Starts the whole demo fleet. On failure everything started so far is stopped before the error is thrown. */
export async function startDemoFleet(o: DemoFleetOptions): Promise<DemoFleet> {
  const say = o.progress ?? (() => {})
  const timeoutMs = (o.timeoutS ?? 60) * 1000
  const cleanup = new Cleanup()
  const dir = mkdtempSync(join(tmpdir(), 'dpu-demo-'))
  cleanup.defer(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }))
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => (stopped ??= cleanup.run())
  try {
    const pki = join(dir, 'pki')
    const manifests = join(dir, 'manifests')
    cpSync(join(o.samplesDir, 'manifests'), manifests, { recursive: true })
    const registryFile = join(dir, 'dpus.yaml')
    cpSync(join(o.samplesDir, 'dpus.yaml'), registryFile)
    const registry = readRegistry(registryFile)

    say(`issuing development certificates in ${pki}`)
    await initDevPki(pki)
    for (const d of registry) await issueDpuCertificate({ caDir: pki, outDir: pki, dpu: d.name })

    say('starting the hub')
    const hubLog = join(dir, 'hub.log')
    const hubProc = spawnDpuctl(
      o.dpuctl,
      [
        'hub',
        'run',
        '--data-dir',
        join(dir, 'hub'),
        '--manifests',
        manifests,
        '--dpu-registry',
        registryFile,
        '--listen',
        '127.0.0.1:0',
        '--api-listen',
        '127.0.0.1:0',
        '--tls-cert',
        join(pki, 'hub.crt'),
        '--tls-key',
        join(pki, 'hub.key'),
        '--tls-ca',
        join(pki, 'ca.crt'),
      ],
      hubLog,
    )
    cleanup.defer('hub', () => hubProc.stop())
    const ports = await hubProc.waitFor((l) => /hub listening grpc=(\d+) api=(\d+)/.exec(l) ?? undefined, timeoutMs, 'hub')
    const hub: DemoHub = { grpc: `127.0.0.1:${ports[1]}`, apiUrl: `http://127.0.0.1:${ports[2]}`, pid: hubProc.child.pid!, logFile: hubLog }

    const dpus: DemoDpu[] = []
    // Stopping a sandbox takes seconds (bridge deletion, vswitchd exit): all of them at once, after everything else.
    const sandboxes: OvsSandbox[] = []
    cleanup.defer('Open vSwitch sandboxes', async () => {
      const failed = (await Promise.allSettled(sandboxes.map((s) => s.stop()))).filter((r) => r.status === 'rejected')
      if (failed.length > 0)
        throw new AggregateError(
          failed.map((r) => (r as PromiseRejectedResult).reason),
          'stopping Open vSwitch sandboxes failed',
        )
    })
    const pid36 = process.pid.toString(36)
    for (const [i, d] of registry.entries()) {
      say(`starting ${d.name}: private Open vSwitch, uplink stand-in, appliance`)
      const ovs = await startOvsSandbox()
      sandboxes.push(ovs)
      const extNetns = await createNetns(cleanup, 'dx')
      await createVethPair(cleanup, { name: 'p0', netns: ovs.netns, peer: 'ext0', peerNetns: extNetns, addr: `${EXTERNAL_ADDR}/24`, disableOffloads: true })
      const serviceNetnsPrefix = `d${String.fromCharCode(97 + (i % 26))}${pid36}-`
      // Service namespaces are created by the appliance; removed after it stopped (registered before it).
      cleanup.defer(`service namespaces ${serviceNetnsPrefix}*`, async () => {
        const own = new Cleanup()
        for (const ns of (await listNetns()).filter((n) => n.startsWith(serviceNetnsPrefix))) own.netns(ns)
        await own.run()
      })
      const dataDir = join(dir, d.name)
      const logFile = join(dir, `${d.name}.log`)
      const proc = spawnDpuctl(
        o.dpuctl,
        [
          'appliance',
          'run',
          '--data-dir',
          dataDir,
          '--listen',
          '127.0.0.1:0',
          '--node-name',
          d.name,
          ...Object.entries(d.labels).flatMap(([k, v]) => ['--node-label', `${k}=${v}`]),
          '--ovsdb',
          ovs.dbRemote,
          '--ovs-rundir',
          ovs.rundir,
          ...(ovs.netns ? ['--ovs-netns', ovs.netns] : []),
          '--service-netns-prefix',
          serviceNetnsPrefix,
          '--hub',
          hub.grpc,
          '--dpu-name',
          d.name,
          '--tls-cert',
          join(pki, `${d.name}.crt`),
          '--tls-key',
          join(pki, `${d.name}.key`),
          '--tls-ca',
          join(pki, 'ca.crt'),
        ],
        logFile,
      )
      cleanup.defer(d.name, () => proc.stop())
      const ready = await proc.waitFor(
        (l) => {
          try {
            const rec = JSON.parse(l) as { url?: string; tokenFile?: string; msg?: string }
            return rec.url && rec.tokenFile && rec.msg?.startsWith('listening on') ? { url: rec.url, tokenFile: rec.tokenFile } : undefined
          } catch {
            return undefined
          }
        },
        timeoutMs,
        d.name,
      )
      dpus.push({
        name: d.name,
        labels: d.labels,
        url: ready.url,
        tokenFile: ready.tokenFile,
        dataDir,
        logFile,
        pid: proc.child.pid!,
        ovs,
        extNetns,
        serviceNetnsPrefix,
        expected: () => renderExpected(manifests, d),
      })
    }
    return { dir, manifests, hub, dpus, stop }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}

interface StoredView {
  kind: string
  metadata: { name: string }
  spec: { interfaceType?: string; service?: { serviceID: string; interfaceName: string } }
  status: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> }
}

async function readHeld(d: DemoDpu): Promise<StoredView[]> {
  const token = readFileSync(d.tokenFile, 'utf8').trim()
  const items: StoredView[] = []
  for (const plural of ['serviceinterfaces', 'servicechains']) {
    const r = await fetch(`${d.url}/apis/${SVC}/${plural}`, { headers: { authorization: `Bearer ${token}` } })
    if (!r.ok) throw new Error(`${d.name}: GET ${plural}: HTTP ${r.status}`)
    items.push(...((await r.json()) as { items: StoredView[] }).items)
  }
  return items
}

/** Flows of chains on br-sfc (cookie != 0). */
export async function chainFlowCount(d: DemoDpu): Promise<number> {
  const out = await d.ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-sfc').catch(() => '')
  return out.split('\n').filter((l) => /cookie=0x[0-9a-f]+/.test(l) && !l.includes('cookie=0x0,')).length
}

export interface DpuConvergence {
  name: string
  objects: string[]
  chains: number
  flows: number
}

/**
 * Waits until the DPU holds exactly what the hub renders for it from the current manifests, every object
 * Ready, chain flows on br-sfc exactly when it has chains, and each service interface has SERVICE_ADDR in its
 * namespace (added here, so the user can ping through the chain).
 */
export async function waitConverged(d: DemoDpu, timeoutMs: number): Promise<DpuConvergence> {
  const deadline = Date.now() + timeoutMs
  let last = 'nothing read yet'
  for (;;) {
    try {
      const expected = d.expected()
      const held = await readHeld(d)
      const names = held.map((o) => `${o.kind}/${o.metadata.name}`).sort()
      const notReady = held.filter((o) => !o.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      const chains = held.filter((o) => o.kind === 'ServiceChain').length
      const flows = await chainFlowCount(d)
      if (names.join() !== expected.join()) last = `holds [${names.join(', ')}], expected [${expected.join(', ')}]`
      else if (notReady.length > 0)
        last = `not Ready: ${notReady.map((o) => `${o.kind}/${o.metadata.name} (${o.status.conditions?.find((c) => c.type === 'Ready')?.message ?? 'no status yet'})`).join('; ')}`
      else if (chains > 0 !== flows > 0) last = `${chains} chains but ${flows} chain flows on br-sfc`
      else {
        for (const si of held.filter((o) => o.kind === 'ServiceInterface' && o.spec.interfaceType === 'service')) {
          const ns = `${d.serviceNetnsPrefix}svc-${si.spec.service!.serviceID}`
          const addrs = await exec(ns, 'ip', ['-o', 'addr', 'show', 'dev', si.spec.service!.interfaceName])
          if (!addrs.stdout.includes(`${SERVICE_ADDR}/`)) await exec(ns, 'ip', ['addr', 'add', `${SERVICE_ADDR}/24`, 'dev', si.spec.service!.interfaceName])
        }
        return { name: d.name, objects: names, chains, flows }
      }
    } catch (err) {
      last = (err as Error).message
    }
    if (Date.now() > deadline) throw new Error(`${d.name} did not converge within ${timeoutMs / 1000} s: ${last}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Pings SERVICE_ADDR from the DPU's external namespace: through p0, br-sfc and the chain, if there is one. */
export async function pingThroughChain(d: DemoDpu, count = 3): Promise<{ sent: number; received: number }> {
  return ping(d.extNetns, SERVICE_ADDR, { count, interval: 0.2, timeoutS: Math.ceil(count * 0.2) + 2 })
}

/** `dpuctl` as the user can type it: on PATH if installed, else through the repository's launcher. */
export function dpuctlCommand(repoRoot: string): string {
  try {
    execFileSync('sh', ['-c', 'command -v dpuctl'], { stdio: 'ignore' })
    return 'dpuctl'
  } catch {
    return `node ${join(repoRoot, 'bin', 'dpuctl.mjs')}`
  }
}
