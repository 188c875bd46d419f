/**
 * The periodic flow verify (DESIGN §4 Reconcile: "a periodic verify, not a re-push"). Every `intervalMs` each
 * bridge with a flow programmer reads its flows back (one flow-stats request) and compares them with what the
 * programmer believes is installed. Drift (a flow someone deleted, a foreign flow added with ovs-ofctl, a flow
 * whose actions were changed) is logged and repaired by re-reading the switch: the programmer's adopt path sends
 * only the difference to the desired table, so every flow that is right keeps its counters.
 *
 * Holds only the timer and the result of the last round. A round skips a bridge whose programmer is busy
 * (a batch in flight, or a reconnect not yet restored): its `installed` table is about to change and a
 * comparison now would report the transient as drift.
 */
import type { Logger } from '../observe/index.js'
import type { OvsNode } from '../node/ovs-node.js'
import { renderFlow, type DriftReport } from '../ovs/flows/index.js'

export const DEFAULT_VERIFY_INTERVAL_MS = 30_000
/** How many drifted flows a log line shows (the counts are always complete). */
const SAMPLE = 5

export interface BridgeVerdict {
  bridge: string
  /** `skipped`: busy programmer or a read failed; `clean`: no drift; `repaired`: drift found and re-read. */
  outcome: 'clean' | 'repaired' | 'skipped'
  missing: number
  extra: number
  changed: number
}

export class FlowVerifier {
  private timer: NodeJS.Timeout | undefined
  private round: Promise<BridgeVerdict[]> | undefined
  private stopped = false

  constructor(private readonly options: { ovs: OvsNode; intervalMs: number; log: Logger }) {}

  start(): this {
    if (this.options.intervalMs > 0) this.schedule()
    return this
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** One round over every programmed bridge now (also what the timer runs). */
  verifyNow(): Promise<BridgeVerdict[]> {
    this.round ??= this.runRound().finally(() => (this.round = undefined))
    return this.round
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.verifyNow().finally(() => this.schedule()), this.options.intervalMs)
    this.timer.unref?.()
  }

  private async runRound(): Promise<BridgeVerdict[]> {
    const { ovs, log } = this.options
    const verdicts: BridgeVerdict[] = []
    for (const bridge of ovs.bridgesWithProgrammers()) {
      const programmer = ovs.programmer(bridge)
      const skipped: BridgeVerdict = { bridge, outcome: 'skipped', missing: 0, extra: 0, changed: 0 }
      if (programmer.busy) {
        verdicts.push(skipped)
        continue
      }
      const generation = programmer.installedGeneration
      let drift: DriftReport
      try {
        drift = await programmer.verify()
      } catch (err) {
        log.debug({ bridge, err: (err as Error).message }, 'flow verify skipped: read failed')
        verdicts.push(skipped)
        continue
      }
      // A batch landed while we read: the comparison mixed two generations.
      if (programmer.busy || programmer.installedGeneration !== generation) {
        verdicts.push(skipped)
        continue
      }
      const counts = { missing: drift.missing.length, extra: drift.extra.length, changed: drift.changed.length }
      if (counts.missing + counts.extra + counts.changed === 0) {
        verdicts.push({ bridge, outcome: 'clean', ...counts })
        continue
      }
      log.warn(
        {
          bridge,
          ...counts,
          sample: [
            ...drift.missing.slice(0, SAMPLE).map((e) => `missing: ${renderFlow(e.flow)}`),
            ...drift.extra.slice(0, SAMPLE).map((e) => `extra: ${renderFlow(e.flow)}`),
            ...drift.changed.slice(0, SAMPLE).map(([, seen]) => `changed: ${renderFlow(seen.flow)}`),
          ],
        },
        'flow drift found; re-reading the switch',
      )
      try {
        const r = await programmer.reread()
        log.info({ bridge, added: r.added, modified: r.modified, removed: r.removed, ms: r.ms }, 'flow drift repaired')
        verdicts.push({ bridge, outcome: 'repaired', ...counts })
      } catch (err) {
        log.warn({ bridge, err: (err as Error).message }, 'flow drift repair failed; the next round retries')
        verdicts.push(skipped)
      }
    }
    return verdicts
  }
}
