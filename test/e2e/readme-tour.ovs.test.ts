/**
 * The README's tour, run as printed: every ```sh block of README.md's "A tour of dpuctl" section, line by line,
 * in one bash session, against a real appliance on a private Open vSwitch. Each command must exit 0, and the
 * chain the tour applies must be Ready with flows, reach HBN's stand-in (a ping) and be gone after the tour's
 * own clean-up. The README and the product can no longer drift apart.
 *
 * Where it runs: inside the sandbox vswitchd's network namespace (so the tour's stand-in uplinks and the service
 * veths are where vswitchd sees them, and its 127.0.0.1:7443 is private), in a private mount namespace (which
 * `ip netns exec` makes) where the sandbox's run directory is bind-mounted on /run/openvswitch (the appliance's
 * default OVS paths, as the tour prints them) and /tmp is a fresh tmpfs (the tour's /tmp/dpu is ours alone).
 * `dpuctl` on PATH is a symlink to this checkout's launcher, as the set-up links it, running the sources
 * (DPUCTL_FROM_SOURCE=1); the tour runs from /tmp, not from the checkout.
 * After a command that starts something in the background, the harness waits until `dpuctl status` answers: the
 * pause a person typing the tour takes anyway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../support/appliance-process.js'
import { guardPid, releasePid } from '../../bin/demo/exit-guard.js'
import { Cleanup } from '../../bin/demo/netns.js'
import { startOvsSandbox, type OvsSandbox } from '../../bin/demo/ovs-sandbox.js'
import { shellBlocksOf } from '../support/readme-blocks.js'

const SECTION = 'A tour of dpuctl'

interface Step {
  block: number
  command: string
  output: string
  code: number | undefined
}

/** The bash script: harness prologue, then each tour command framed by markers, then a safety net. */
function buildScript(rundir: string): string {
  const blocks = shellBlocksOf(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), SECTION)
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`
  const out = [
    'set -u',
    'exec 2>&1',
    // A fresh network namespace has its loopback down; a host's is up, and the tour talks to 127.0.0.1.
    'ip link set lo up',
    'mkdir -p /run/openvswitch',
    `mount --bind ${q(rundir)} /run/openvswitch`,
    // The tour's /tmp is its own; a checkout under /tmp (a CI clone in a mktemp dir) stays reachable at its path:
    // bound back from a descriptor opened before the tmpfs hid it (not canonicalized: that would resolve to the hidden path).
    `exec 9<${q(REPO_ROOT)}`,
    'mount -t tmpfs tmpfs /tmp',
    `case ${q(REPO_ROOT)} in /tmp/*) mkdir -p ${q(REPO_ROOT)} && mount --no-canonicalize --bind /proc/$$/fd/9 ${q(REPO_ROOT)} ;; esac`,
    'exec 9<&-',
    // dpuctl on PATH as the set-up links it (a symlink to the launcher), running this checkout's sources.
    'mkdir /tmp/bin',
    `ln -s ${q(join(REPO_ROOT, 'bin', 'dpuctl.mjs'))} /tmp/bin/dpuctl`,
    'export PATH=/tmp/bin:$PATH DPUCTL_FROM_SOURCE=1',
    'cd /tmp',
  ]
  let n = 0
  blocks.forEach((b, bi) => {
    for (const command of b.commands) {
      out.push(`echo ${q(`__cmd ${n} ${bi} ${command}`)}`, command, `echo "__rc ${n} $?"`)
      n++
    }
    if (b.commands.some((c) => /&\s*(#.*)?$/.test(c))) {
      out.push('for i in $(seq 1 600); do dpuctl status >/dev/null 2>&1 && break; sleep 0.2; done', 'dpuctl status >/dev/null || { cat /tmp/dpu.log; exit 1; }')
    }
  })
  // Safety net only: the tour stops what it starts.
  out.push('kill $(jobs -p) 2>/dev/null; wait', 'echo __end')
  return out.join('\n') + '\n'
}

function parseSteps(text: string): Step[] {
  const steps: Step[] = []
  let current: Step | undefined
  for (const line of text.split('\n')) {
    const cmd = /^__cmd (\d+) (\d+) (.*)$/.exec(line)
    const rc = /^__rc (\d+) (\d+)$/.exec(line)
    if (cmd) {
      current = { block: Number(cmd[2]), command: cmd[3]!, output: '', code: undefined }
      steps.push(current)
    } else if (rc && current) {
      current.code = Number(rc[2])
      current = undefined
    } else if (current) current.output += `${line}\n`
  }
  return steps
}

describe("the README's tour, run as printed (real appliance, private Open vSwitch)", () => {
  const cleanup = new Cleanup()
  let ovs: OvsSandbox
  let steps: Step[] = []
  let transcript = ''

  const step = (pattern: RegExp): Step => {
    const s = steps.find((x) => pattern.test(x.command))
    if (!s) throw new Error(`the tour has no command matching ${pattern}; it ran:\n${steps.map((x) => x.command).join('\n')}`)
    return s
  }

  beforeAll(async () => {
    ovs = await startOvsSandbox()
    cleanup.defer('ovs sandbox', () => ovs.stop())
    // Whatever the tour's appliance created outside the sandbox namespace (its service namespace) goes too.
    cleanup.netns('svc-doca-hbn')
    const script = buildScript(ovs.rundir)
    transcript = await new Promise<string>((resolve, reject) => {
      // Its own process group, so a tour stuck half-way is stopped with everything it started in the background.
      const child = spawn('ip', ['netns', 'exec', ovs.netns!, 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      guardPid(child.pid)
      let text = ''
      child.stdout.on('data', (d: Buffer) => (text += d.toString()))
      child.stderr.on('data', (d: Buffer) => (text += d.toString()))
      if (process.env.README_TOUR_LOG) child.stdout.on('data', (d: Buffer) => appendFileSync(process.env.README_TOUR_LOG!, d))
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // already gone
        }
      }, 240_000)
      child.on('error', reject)
      child.on('close', () => {
        clearTimeout(timer)
        releasePid(child.pid)
        resolve(text)
      })
    })
    steps = parseSteps(transcript)
    if (!transcript.includes('__end')) console.error(`README tour transcript (incomplete):\n${transcript}`)
  }, 300_000)
  afterAll(() => cleanup.run())

  it('runs every command of the tour to the end, each exiting 0', () => {
    expect(transcript, transcript).toContain('__end')
    expect(steps.length).toBeGreaterThan(10)
    const failed = steps.filter((s) => s.code !== 0)
    expect(failed.map((s) => `[exit ${s.code}] ${s.command}\n${s.output}`).join('\n')).toBe('')
  })

  it("brings DPF's hbn-to-fabric chain to Ready with flows, and the fleet object with it", () => {
    expect(step(/^dpuctl wait .*hbn-to-fabric/).output).toMatch(/condition met/)
    expect(step(/^dpuctl get dsc /).output).toMatch(/^hbn-to-fabric\s+1\s+True\s+Ready\s/m)
    expect(step(/^dpuctl get sc .*-o wide/).output).toMatch(/^hbn-to-fabric\s+1\s+True\s+FlowsInstalled\s+2\s+4\/4\s+4\b/m)
    const flows = step(/^dpuctl flows --bridge br-sfc/).output
    expect(flows.split('\n').filter((l) => l.includes('cookie=')).length).toBe(4)
  })

  it('traces a packet from p0 into HBN and pings the HBN stand-in through the chain', () => {
    const trace = step(/^dpuctl trace hbn-to-fabric/).output
    expect(trace).toMatch(/^path: dpf-operator-system\/p0 -> dpf-operator-system\/p0-sf \(br-sfc ofport \d+\), dpf-operator-system\/p0-sf \(br-hbn ofport \d+\)$/m)
    expect(trace).not.toMatch(/dropped/)
    expect(trace).toMatch(/br-hbn table 0/)
    expect(step(/^ping /).output).toMatch(/ 0% packet loss/)
  })

  it("leaves nothing of the appliance behind after the tour's own clean-up", async () => {
    expect(step(/^dpuctl appliance cleanup/).output).toMatch(/br-sfc/)
    expect((await ovs.vsctl('list-br')).trim()).toBe('')
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/^svc-doca-hbn\b/m)
  })
})
