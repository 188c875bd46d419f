/**
 * desired vs installed -> the minimal FLOW_MOD set, as ovn-controller's `update_installed_flows_by_compare`:
 * a key only installed is DELETE_STRICT, only desired is ADD, in both with other actions is MODIFY_STRICT,
 * and a changed cookie is ADD (MODIFY cannot rewrite a cookie; ADD over an existing flow replaces it whole).
 */
import type { FlowMod } from '../openflow/index.js'
import { deleteByCookie, flowModFor, type FlowEntry, type FlowTable } from './flow.js'

export interface FlowDiff {
  add: FlowEntry[]
  modify: FlowEntry[]
  remove: FlowEntry[]
}

export function diffFlows(desired: FlowTable, installed: FlowTable): FlowDiff {
  const out: FlowDiff = { add: [], modify: [], remove: [] }
  for (const [key, have] of installed) {
    const want = desired.get(key)
    if (!want) out.remove.push(have)
    else if (want.flow.cookie !== have.flow.cookie) out.add.push(want)
    else if (want.actionsKey !== have.actionsKey) out.modify.push(want)
  }
  for (const [key, want] of desired) if (!installed.has(key)) out.add.push(want)
  return out
}

export const isEmptyDiff = (d: FlowDiff): boolean => d.add.length + d.modify.length + d.remove.length === 0

/** Deletes first, then modifies, then adds (faucet's order): one ORDERED bundle applies them in this order. */
export function buildFlowMods(diff: FlowDiff): FlowMod[] {
  return [...diff.remove.map((e) => flowModFor(e.flow, 'delete_strict')), ...diff.modify.map((e) => flowModFor(e.flow, 'modify_strict')), ...diff.add.map((e) => flowModFor(e.flow, 'add'))]
}

/** Full replacement: delete what we own (cookie/mask, or everything) then add all desired, for one bundle. */
export function buildFullSync(desired: FlowTable, owned: { cookie: bigint; cookieMask: bigint }): FlowMod[] {
  const mods: FlowMod[] = [deleteByCookie(owned.cookie, owned.cookieMask)]
  for (const e of desired.values()) mods.push(flowModFor(e.flow, 'add'))
  return mods
}
