/**
 * `ovs-appctl ofproto/trace`: what vswitchd would do with a packet, table by table, and the datapath actions it
 * ends in. The sample packet is a flow in ovs-ofctl syntax, checked word by word where it enters the appliance
 * (api/trace-request.ts); a flow that starts with "-" is refused here too, so it can never be read as an option.
 */
import { execFile } from 'node:child_process'
import { AppctlFailedError, AppctlUnavailableError } from './errors.js'

export interface TraceStep {
  bridge: string
  table: number
  /** The rule as the trace prints it (`in_port=1, priority 100, cookie 0x...`), or `No match.` */
  rule: string
  actions: string[]
}

export interface TraceResult {
  /** The flow as vswitchd parsed it (`Flow:` line). */
  flow: string
  steps: TraceStep[]
  megaflow?: string
  /** `Datapath actions:` split at top-level commas (`drop` when the packet is dropped). */
  datapathActions: string[]
  text: string
}

/** The default sample: an ARP request broadcast from a locally administered MAC. */
export const DEFAULT_TRACE_PACKET = 'arp,dl_src=02:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=192.0.2.1,arp_tpa=192.0.2.2'

/** Split at commas outside parentheses: `set(eth(src=..,dst=..)),2` -> two actions. */
function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur.trim())
      cur = ''
    } else cur += ch
  }
  if (cur.trim()) out.push(cur.trim())
  return out
}

/** Parse ofproto/trace text (OVS 2.8+ layout). Pure. */
export function parseTrace(text: string): TraceResult {
  const lines = text.split('\n')
  const result: TraceResult = { flow: '', steps: [], datapathActions: [], text }
  let bridge = ''
  let step: TraceStep | undefined
  for (const line of lines) {
    let m: RegExpExecArray | null
    if ((m = /^Flow: (.*)$/.exec(line))) result.flow = m[1]!.trim()
    else if ((m = /^bridge\("([^"]+)"\)$/.exec(line.trim()))) bridge = m[1]!
    else if ((m = /^\s*(\d+)\. (.*)$/.exec(line))) {
      step = { bridge, table: Number(m[1]), rule: m[2]!.trim(), actions: [] }
      result.steps.push(step)
    } else if ((m = /^Megaflow: (.*)$/.exec(line))) result.megaflow = m[1]!.trim()
    else if ((m = /^Datapath actions: (.*)$/.exec(line))) result.datapathActions = splitTopLevel(m[1]!)
    else if (step && /^\s{4,}\S/.test(line) && !/^-+$/.test(line.trim())) step.actions.push(line.trim())
    else if (line.trim() === '' || /^(Final flow|Translation failed)/.test(line)) step = undefined
  }
  return result
}

/** Runs `ovs-appctl -t <ctl> ofproto/trace <bridge> <flow>` and parses the answer. */
export function runOfprotoTrace(ctl: string, bridge: string, flow: string, timeoutMs = 5000): Promise<TraceResult> {
  if (flow.trimStart().startsWith('-')) return Promise.reject(new AppctlFailedError(`ofproto/trace: flow "${flow}" would be read as an option`, { bridge, flow }))
  return new Promise((resolve, reject) => {
    execFile('ovs-appctl', ['-t', ctl, `--timeout=${Math.ceil(timeoutMs / 1000)}`, 'ofproto/trace', bridge, flow], { timeout: timeoutMs + 1000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(parseTrace(stdout))
      const detail = (stderr || stdout || (err as Error).message).trim()
      // ovs-appctl exits 1 for a command error answered by vswitchd, 2 when it cannot reach it.
      const code = (err as { code?: number | string }).code
      if (code === 1) reject(new AppctlFailedError(`ofproto/trace ${bridge} ${flow}: ${detail}`, { ctl, bridge, flow }, err))
      else reject(new AppctlUnavailableError(`ovs-appctl -t ${ctl}: ${detail}`, { ctl, bridge }, err))
    })
  })
}
