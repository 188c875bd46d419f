/**
 * A private Open vSwitch for tests, benchmarks and the demo: `ovsdb-server` + `ovs-vswitchd` in a fresh run
 * directory (unix sockets only, userspace `netdev` datapath, since this machine has no openvswitch kernel
 * module), started with `--detach --pidfile` and stopped by pid. Nothing is shared between sandboxes, so test
 * files can run in parallel.
 *
 * Also starts a single-node *clustered* database (`ovsdb-tool create-cluster`) for resume tests: standalone
 * databases always answer `monitor_cond_since` with found=false.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { guardPid } from './exit-guard.js'

const run = promisify(execFile)

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'

export interface OvsSandboxOptions {
  /** Start ovs-vswitchd too (default true). OVSDB-only tests can skip it. */
  vswitchd?: boolean
  /** Use a single-node clustered database (RAFT) instead of a standalone one. */
  clustered?: boolean
  /** Also listen on TCP 127.0.0.1:<port> (0 = none). */
  tcpPort?: number
  /** Keep the run directory after stop (for debugging). */
  keep?: boolean
  /**
   * Run ovs-vswitchd in a private network namespace (created here, deleted on stop). The netdev datapath makes
   * a tap device `ovs-netdev` (and one per bridge) in its namespace, so two sandboxes in the same namespace
   * collide ("creating tap device failed: Device or resource busy", bridge not created). Use it unless the test
   * plugs root-namespace veths into the bridge. The unix sockets are unaffected. Default true: data-plane tests
   * run the appliance inside the same namespace (`execPrefix`) so the veths it creates are the ones vswitchd sees.
   */
  privateNetns?: boolean
}

export interface OvsSandbox {
  rundir: string
  /** `unix:<rundir>/db.sock` */
  dbRemote: string
  dbSock: string
  /** Environment for OVS command-line tools (OVS_RUNDIR etc.). */
  env: NodeJS.ProcessEnv
  vsctl(...args: string[]): Promise<string>
  ofctl(...args: string[]): Promise<string>
  /** ovs-appctl against ovs-vswitchd. */
  appctl(...args: string[]): Promise<string>
  /** Management socket of a bridge: `<rundir>/<bridge>.mgmt`. */
  mgmtSocket(bridge: string): string
  /** The private network namespace of ovs-vswitchd, if `privateNetns`. */
  netns: string | undefined
  /** argv prefix that runs a command in vswitchd's network namespace (empty without `privateNetns`). */
  execPrefix(): string[]
  vswitchdPid(): number | undefined
  ovsdbPid(): number | undefined
  startVswitchd(): Promise<void>
  /** SIGKILL ovs-vswitchd (flows are lost, as on a crash). */
  killVswitchd(): Promise<void>
  startOvsdb(): Promise<void>
  killOvsdb(): Promise<void>
  stop(): Promise<void>
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
    return Number.isFinite(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function killAndWait(pid: number | undefined, signal: NodeJS.Signals): Promise<void> {
  if (pid === undefined || !alive(pid)) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + 5000
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
    while (alive(pid)) await new Promise((r) => setTimeout(r, 20))
  }
}

/** Fail early with a clear message when the Debian package is missing. */
export function ovsAvailable(): boolean {
  return existsSync(VSWITCH_SCHEMA) && existsSync('/usr/sbin/ovs-vswitchd') && existsSync('/usr/sbin/ovsdb-server')
}

export async function startOvsSandbox(options: OvsSandboxOptions = {}): Promise<OvsSandbox> {
  if (!ovsAvailable()) throw new Error('openvswitch-switch is not installed (apt-get install -y openvswitch-switch)')
  // Short path: unix socket paths are limited to 108 bytes.
  const rundir = mkdtempSync(join(tmpdir(), 'ovs-'))
  const dbFile = join(rundir, 'conf.db')
  const dbSock = join(rundir, 'db.sock')
  const dbRemote = `unix:${dbSock}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OVS_RUNDIR: rundir,
    OVS_LOGDIR: rundir,
    OVS_DBDIR: rundir,
    OVS_SYSCONFDIR: rundir,
    OVS_PKGDATADIR: '/usr/share/openvswitch',
  }
  const ovsdbPidFile = join(rundir, 'ovsdb-server.pid')
  const vswitchdPidFile = join(rundir, 'ovs-vswitchd.pid')
  const clusterPort = 20000 + Math.floor(Math.random() * 20000)

  if (options.clustered) {
    execFileSync('ovsdb-tool', ['create-cluster', dbFile, VSWITCH_SCHEMA, `tcp:127.0.0.1:${clusterPort}`], { env })
  } else {
    execFileSync('ovsdb-tool', ['create', dbFile, VSWITCH_SCHEMA], { env })
  }

  const tool = async (cmd: string, args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(cmd, args, { env, maxBuffer: 256 * 1024 * 1024 })
      return stdout
    } catch (err) {
      const e = err as { stderr?: string; message: string }
      throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`)
    }
  }

  const startOvsdb = async (): Promise<void> => {
    const remotes = [`--remote=punix:${dbSock}`]
    if (options.tcpPort) remotes.push(`--remote=ptcp:${options.tcpPort}:127.0.0.1`)
    await tool('ovsdb-server', [
      dbFile,
      ...remotes,
      `--pidfile=${ovsdbPidFile}`,
      `--log-file=${join(rundir, 'ovsdb-server.log')}`,
      `--unixctl=${join(rundir, 'ovsdb-server.ctl')}`,
      '--detach',
      '--no-chdir',
    ])
    if (options.clustered) {
      // A single-node cluster elects itself within about a second; writes fail until then.
      const deadline = Date.now() + 10_000
      for (;;) {
        const status = await tool('ovs-appctl', ['-t', join(rundir, 'ovsdb-server.ctl'), 'cluster/status', 'Open_vSwitch']).catch(() => '')
        if (/Role: leader/.test(status)) break
        if (Date.now() > deadline) throw new Error(`clustered ovsdb-server in ${rundir} did not become leader`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }

  const netns = options.privateNetns !== false ? `ovs-sbx-${rundir.slice(-6).toLowerCase()}-${process.pid}` : undefined
  if (netns) execFileSync('ip', ['netns', 'add', netns])

  const startVswitchd = async (): Promise<void> => {
    const exec = netns ? (['ip', ['netns', 'exec', netns, 'ovs-vswitchd']] as const) : (['ovs-vswitchd', []] as const)
    await tool(exec[0], [
      ...exec[1],
      dbRemote,
      `--pidfile=${vswitchdPidFile}`,
      `--log-file=${join(rundir, 'ovs-vswitchd.log')}`,
      `--unixctl=${join(rundir, 'ovs-vswitchd.ctl')}`,
      '--disable-system',
      '--detach',
      '--no-chdir',
    ])
  }

  const sandbox: OvsSandbox = {
    rundir,
    dbRemote,
    dbSock,
    env,
    vsctl: (...args) => tool('ovs-vsctl', [`--db=${dbRemote}`, '--timeout=10', ...args]),
    ofctl: (...args) => tool('ovs-ofctl', args),
    appctl: (...args) => tool('ovs-appctl', ['-t', join(rundir, 'ovs-vswitchd.ctl'), ...args]),
    mgmtSocket: (bridge) => join(rundir, `${bridge}.mgmt`),
    netns,
    execPrefix: () => (netns ? ['ip', 'netns', 'exec', netns] : []),
    vswitchdPid: () => readPid(vswitchdPidFile),
    ovsdbPid: () => readPid(ovsdbPidFile),
    startVswitchd: async () => {
      await startVswitchd()
      guardPid(readPid(vswitchdPidFile))
    },
    killVswitchd: async () => {
      await killAndWait(readPid(vswitchdPidFile), 'SIGKILL')
      rmSync(vswitchdPidFile, { force: true })
    },
    startOvsdb: async () => {
      await startOvsdb()
      guardPid(readPid(ovsdbPidFile))
    },
    killOvsdb: async () => {
      await killAndWait(readPid(ovsdbPidFile), 'SIGKILL')
      rmSync(ovsdbPidFile, { force: true })
    },
    stop: async () => {
      // netdev bridges and internal ports are persistent tap devices in the host namespace: vswitchd removes
      // them only when the bridges are deleted, not when it exits, so delete every bridge first.
      const vswitchd = readPid(vswitchdPidFile)
      if (vswitchd !== undefined && alive(vswitchd)) {
        const bridges = (await sandbox.vsctl('list-br').catch(() => '')).split('\n').filter(Boolean)
        const args = bridges.flatMap((b, i) => [...(i > 0 ? ['--'] : []), '--if-exists', 'del-br', b])
        if (args.length > 0) await sandbox.vsctl(...args).catch(() => undefined)
      }
      await killAndWait(readPid(vswitchdPidFile), 'SIGTERM')
      await killAndWait(readPid(ovsdbPidFile), 'SIGTERM')
      if (netns) {
        try {
          execFileSync('ip', ['netns', 'del', netns])
        } catch {
          /* already gone */
        }
      }
      if (!options.keep) rmSync(rundir, { recursive: true, force: true })
    },
  }

  try {
    await startOvsdb()
    guardPid(readPid(ovsdbPidFile))
    await sandbox.vsctl('--no-wait', 'init')
    if (options.vswitchd !== false) {
      await startVswitchd()
      guardPid(readPid(vswitchdPidFile))
    }
  } catch (err) {
    await sandbox.stop()
    throw err
  }
  return sandbox
}
