/**
 * Atomic flow changes: one ORDERED|ATOMIC bundle per change set (OF1.4 §7.3.9), one BUNDLE_ADD_MESSAGE per flow
 * mod (each at most 64 KiB, never a change split across bundles).
 *
 * Two phases, because OVS validates a flow mod when it is *added* to the bundle and, if that fails, answers an
 * error for the add but still commits the rest (observed on OVS 3.1: OPEN, good add, bad-prereq add, COMMIT
 * installed the good flow). So:
 *   1. OPEN + every ADD + BARRIER  -> any error: DISCARD, report the failing flows, nothing installed
 *   2. COMMIT + BARRIER            -> any error (e.g. a missing group at commit): the switch rolls back
 * Phase 2 costs one extra round trip on a unix socket, not a second pass over the flows.
 */
import type { OpenFlowConnection } from './conn.js'
import { OpenFlowRejectedError, type OfpErrorInfo } from './errors.js'
import { writeBundledFlowMod, writeFrame, type FlowModSpans } from './codec.js'
import type { FlowModInput, OfMessage } from './model.js'
import type { Writer } from './wire.js'
import { OFPBF } from './tables/messages.js'

export const BUNDLE_FLAGS = OFPBF.ATOMIC | OFPBF.ORDERED

export interface CommitOptions {
  /** Names a flow mod in error reports (e.g. ovs-ofctl text); default `flow_mod #i`. */
  describe?: (fm: FlowModInput, index: number) => string
  timeoutMs?: number
  /** Called once every flow mod of the bundle is written to the socket (the switch is still parsing them). */
  onSent?: () => void
  /**
   * Called right after flow mod `index` is encoded, with where its match and instructions sit in `buf`, in the
   * negotiated `version`'s encoding. The bytes stay as written (each chunk of the stream is a buffer of its own,
   * never reused), so a caller may keep `buf` and read them later, e.g. to key the flows from the bytes sent.
   */
  onEncoded?: (index: number, buf: Buffer, spans: FlowModSpans, version: number) => void
}

export interface CommitResult {
  bundleId: number
  flowMods: number
}

/**
 * Apply `flowMods` atomically: resolves after the switch committed them (barrier reply), or throws
 * `OpenFlowRejectedError` naming each failing flow with its OpenFlow error, with nothing installed.
 * An empty list sends nothing.
 */
export async function commitFlowMods(conn: OpenFlowConnection, flowMods: readonly FlowModInput[], options: CommitOptions = {}): Promise<CommitResult> {
  const bundleId = conn.nextBundleId()
  if (flowMods.length === 0) return { bundleId, flowMods: 0 }
  const describe = options.describe ?? ((_fm: FlowModInput, i: number) => `flow_mod #${i}`)
  const explain = (errors: readonly OfpErrorInfo[], firstIndexIsOpen: boolean): OfpErrorInfo[] =>
    errors.map((e) => {
      const i = (e.index ?? -1) - (firstIndexIsOpen ? 1 : 0)
      const fm = flowMods[i]
      return fm ? { ...e, index: i, offending: describe(fm, i) } : { ...e, offending: `bundle ${bundleId} control` }
    })

  const discard = (): Promise<unknown> =>
    conn.transact([{ type: 'bundle_control', bundleId, ctrl: 'discard_request', flags: BUNDLE_FLAGS }], options.timeoutMs).catch(() => {
      /* the switch drops an unfinished bundle on its own after bundle-idle-timeout or on disconnect */
    })
  let phase1
  try {
    const open: OfMessage = { type: 'bundle_control', bundleId, ctrl: 'open_request', flags: BUNDLE_FLAGS }
    // Flow mods are written straight into the stream (no per-message objects): the hot path of a 100k bundle.
    const onEncoded = options.onEncoded
    const write = (w: Writer, i: number, xid: number, version: number): void => {
      if (i === 0) writeFrame(w, open, version, xid)
      else {
        const spans = writeBundledFlowMod(w, version, xid, bundleId, BUNDLE_FLAGS, flowMods[i - 1]!)
        // w.buf read after the write: the writer may have grown into a new buffer for this very flow mod.
        onEncoded?.(i - 1, w.buf, spans, version)
      }
    }
    phase1 = await conn.transactWith(flowMods.length + 1, write, options.timeoutMs, options.onSent)
  } catch (err) {
    // An encode error part-way through a streamed bundle: what was sent is never committed.
    if (conn.connected) await discard()
    throw err
  }
  if (phase1.errors.length) {
    await discard()
    throw new OpenFlowRejectedError(`bundle ${bundleId} (${flowMods.length} flow mods)`, explain(phase1.errors, true))
  }

  // Commit-time failures name the add's xid (from phase 1, already finished), then OFPBFC_MSG_FAILED for COMMIT.
  const late: OfpErrorInfo[] = []
  const firstAddXid = phase1.firstXid
  const onLate = (e: OfpErrorInfo): void => {
    const index = e.xid - firstAddXid
    if (index >= 0 && index <= flowMods.length) late.push({ ...e, index })
  }
  conn.on('switch-error', onLate)
  try {
    const phase2 = await conn.transact([{ type: 'bundle_control', bundleId, ctrl: 'commit_request', flags: BUNDLE_FLAGS }], options.timeoutMs)
    if (phase2.errors.length || late.length) {
      const commit = phase2.errors.map((e) => ({ ...e, index: undefined, offending: `bundle ${bundleId} commit` }))
      throw new OpenFlowRejectedError(`bundle ${bundleId} (${flowMods.length} flow mods)`, [...explain(late, true), ...commit])
    }
  } finally {
    conn.off('switch-error', onLate)
  }
  return { bundleId, flowMods: flowMods.length }
}
