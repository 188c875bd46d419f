/**
 * Composition root of `dpuctl demo`: a federation hub and two appliances, each on its own private Open vSwitch,
 * over the sample fleet (federation/samples/fleet), in a temp dir the user may edit. Wiring and printing only;
 * the fleet itself is demo/fleet.ts.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError, type CliCommand, type CliIO } from '../api/cli.js'
import { parseFlags } from '../api/cli-flags.js'
import { demoPreflight, dpuctlCommand, EXTERNAL_ADDR, pingThroughChain, probeDemoHost, SERVICE_ADDR, startDemoFleet, waitConverged, type DemoFleet } from './demo/fleet.js'

const USAGE = `Usage: dpuctl demo [--check] [--timeout SECONDS]

Starts a federation hub and two appliances (dpu-a zone=a, dpu-b zone=b), each on its own private Open vSwitch
(ovs-vswitchd in a private network namespace), with the sample fleet of federation/samples/fleet copied into a
temp dir. Prints the URLs, token files and commands to watch a change propagate, then runs until Ctrl-C or
SIGTERM and removes everything it started. Needs root and Open vSwitch (make setup installs it).
  --check        start, verify both appliances reached their rendered objects and flows (and ping through the
                 chain), move the chain from zone a to zone b and verify again, print one line, stop
                 (also DPUCTL_DEMO_CHECK=1)
  --timeout S    how long each step may take (default 60)`

/** SIGHUP too: closing the terminal must not leave OVS daemons and namespaces behind. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** The repository (or installed package) root: where federation/samples lives, from source or from dist. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'federation', 'samples', 'fleet', 'dpus.yaml'))) return dir
    dir = dirname(dir)
  }
  throw new Error('cannot find federation/samples/fleet next to dpuctl (incomplete installation?)')
}

function describeFleet(f: DemoFleet, dpuctl: string, chainFile: string): string {
  const [a, b] = f.dpus
  const env = (d: NonNullable<typeof a>) => `DPUCTL_SERVER=${d.url} DPUCTL_TOKEN_FILE=${d.tokenFile}`
  const lines = [
    '',
    `Demo fleet running (work dir ${f.dir}; logs: hub.log ${f.dpus.map((d) => `${d.name}.log`).join(' ')})`,
    '',
    `  hub      REST ${f.hub.apiUrl}  (gRPC ${f.hub.grpc}, mTLS)  pid ${f.hub.pid}`,
    ...f.dpus.map(
      (d) =>
        `  ${d.name.padEnd(8)} API  ${d.url}  token ${d.tokenFile}  labels ${Object.entries(d.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}  pid ${d.pid}`,
    ),
    `  manifests ${f.manifests}   (the hub watches this directory: edit, add or remove files)`,
    '',
    'Watch a change propagate (in another shell, as root):',
    `  curl -s ${f.hub.apiUrl}/v1/fleet`,
    ...f.dpus.map((d) => `  ${env(d)} ${dpuctl} get sc -A`),
    ...(a ? [`  ${env(a)} ${dpuctl} status`, `  ${env(a)} ${dpuctl} get bridges -o wide`] : []),
    ...(a && b ? [`  watch -n 0.5 ${env(b)} ${dpuctl} get sc -A`] : []),
    `  edit ${chainFile}: change "zone: a" to "zone: b" and the chain moves from dpu-a to dpu-b`,
    `    (e.g. sed -i 's/zone: a }/zone: b }/' ${chainFile})`,
    '',
    `Real packets: each DPU's uplink p0 is a veth to ext0 (${EXTERNAL_ADDR}) in its own namespace; the demo gives the`,
    `firewall's service interface ${SERVICE_ADDR}. br-sfc is fail_mode=secure: only a chain lets a ping through.`,
    ...f.dpus.map((d) => `  ip netns exec ${d.extNetns} ping ${SERVICE_ADDR}     # through ${d.name}`),
    `  kill -9 ${f.hub.pid}   # the hub dies: appliances keep forwarding; dpuctl status shows "disconnected"`,
    '',
    'Ctrl-C stops everything (appliances, hub, Open vSwitch, namespaces) and removes the work dir.',
  ]
  return lines.join('\n') + '\n'
}

function moveChain(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8')
  // The selector is a flow map, `matchLabels: { zone: a }` (spacing as the formatter leaves it, or none).
  const selector = new RegExp(`zone: ${from}(\\s*})`, 'g')
  if (!selector.test(text)) throw new Error(`${file} has no "zone: ${from} }" selector to change`)
  writeFileSync(`${file}.tmp`, text.replace(selector, `zone: ${to}$1`))
  renameSync(`${file}.tmp`, file)
}

async function check(f: DemoFleet, chainFile: string, timeoutMs: number, io: CliIO): Promise<void> {
  const ping = async () => Object.fromEntries(await Promise.all(f.dpus.map(async (d) => [d.name, await pingThroughChain(d)] as const)))
  const expectPings = (got: Record<string, { sent: number; received: number }>, through: string) => {
    for (const [name, r] of Object.entries(got)) {
      const want = name === through ? r.sent : 0
      if (r.received !== want) throw new Error(`ping from ${name}'s uplink: ${r.received}/${r.sent} answered, expected ${want}`)
    }
  }
  const before = await Promise.all(f.dpus.map((d) => waitConverged(d, timeoutMs)))
  expectPings(await ping(), 'dpu-a')
  const t0 = Date.now()
  moveChain(chainFile, 'a', 'b')
  const after = await Promise.all(f.dpus.map((d) => waitConverged(d, timeoutMs)))
  const propagationMs = Date.now() - t0
  const pings = await ping()
  expectPings(pings, 'dpu-b')
  const show = (cs: typeof before) => cs.map((c) => `${c.name} ${c.objects.length} objects/${c.flows} flows`).join(', ')
  io.stdout.write(
    `demo check passed: ${show(before)}; chain moved zone a -> b in ${propagationMs} ms (${show(after)}); ` +
      `ping through dpu-b's chain ${pings['dpu-b']!.received}/${pings['dpu-b']!.sent}, through dpu-a none answered (${pings['dpu-a']!.sent} sent; no chain there)\n`,
  )
}

async function runDemo(args: string[], io: CliIO): Promise<0 | 1> {
  const { values } = parseFlags(args, { check: { type: 'boolean' }, timeout: { type: 'string' } }, 0)
  const checkOnly = values.check === true || io.env.DPUCTL_DEMO_CHECK === '1'
  const timeoutS = values.timeout === undefined ? 60 : Number(values.timeout)
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError('--timeout must be a positive number of seconds')

  const missing = demoPreflight(probeDemoHost())
  if (missing.length > 0) {
    io.stderr.write(`dpuctl demo cannot run on this machine; missing:\n${missing.map((m) => `  - ${m}\n`).join('')}`)
    return 1
  }
  const root = packageRoot()
  // Installed before anything starts: a Ctrl-C during start-up or the check still stops what was started.
  let onSignal: () => void = () => {}
  const signalled = new Promise<void>((resolve) => {
    onSignal = () => resolve()
    for (const s of STOP_SIGNALS) process.on(s, onSignal)
  })
  const interrupted = signalled.then(() => {
    throw new Error('interrupted')
  })
  interrupted.catch(() => {})
  // Children run dpuctl exactly as this process was run (built dist, or sources through tsx).
  const self = [process.execPath, ...process.execArgv, process.argv[1] as string]
  io.stdout.write('dpuctl demo: a federation hub and two appliances, each on its own private Open vSwitch\n')
  const fleet = await startDemoFleet({
    dpuctl: self,
    samplesDir: join(root, 'federation', 'samples', 'fleet'),
    progress: (l) => io.stdout.write(`  ${l}\n`),
    timeoutS,
  })
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= fleet.stop())
  const chainFile = join(fleet.manifests, 'chain-zone-a.yaml')
  try {
    if (checkOnly) {
      await Promise.race([check(fleet, chainFile, timeoutS * 1000, io), interrupted])
      return 0
    }
    await Promise.race([Promise.all(fleet.dpus.map((d) => waitConverged(d, timeoutS * 1000))), interrupted])
    io.stdout.write(describeFleet(fleet, dpuctlCommand(root), chainFile))
    // A pending promise does not keep Node alive: without this, the demo would exit without cleaning up
    // once the user killed every child (hub and appliances).
    const keepAlive = setInterval(() => {}, 60_000)
    await signalled.finally(() => clearInterval(keepAlive))
    io.stdout.write('stopping the demo fleet\n')
    return 0
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal)
    await stop()
    if (!checkOnly) io.stdout.write(`stopped; removed ${fleet.dir}\n`)
  }
}

export const demoCommands: CliCommand[] = [{ path: ['demo'], summary: 'run a hub and two appliances on private Open vSwitch instances (--check: verify and stop)', usage: USAGE, run: runDemo }]
