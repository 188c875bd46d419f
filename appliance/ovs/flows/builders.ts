/**
 * Small pure builders for flows (faucet `valve_of.py` style), so callers never spell wire details such as the
 * OFPVID_PRESENT bit or the instruction order.
 * @example
 *   flow({ table: 0, priority: 100, cookie, match: { in_port: 1 }, instructions: apply(output(2)) })
 */
import { OFPP, OFPVID_PRESENT, type Action, type Instruction, type OxmFieldName, type OxmValue } from '../openflow/index.js'
import { canonicalInstructions, type Flow } from './flow.js'

export const output = (port: number): Action => ({ type: 'output', port, maxLen: port === OFPP.CONTROLLER ? 0xffff : 0 })
export const setField = <N extends OxmFieldName>(field: N, value: OxmValue<N>): Action => ({ type: 'set_field', field, value }) as Action
/** `vlan_vid` value for a tagged frame with this VID (OF1.5.1 §7.2.3.8). */
export const vlanVid = (vid: number): number => OFPVID_PRESENT | (vid & 0xfff)
/** Push an 802.1Q tag and set its VID. */
export const pushVlan = (vid: number, ethertype = 0x8100): Action[] => [{ type: 'push_vlan', ethertype }, setField('vlan_vid', vlanVid(vid))]
export const popVlan = (): Action => ({ type: 'pop_vlan' })

export const applyActions = (...actions: (Action | Action[])[]): Instruction => ({ type: 'apply_actions', actions: actions.flat() })
export const gotoTable = (table: number): Instruction => ({ type: 'goto_table', table })
export const writeMetadata = (metadata: bigint, mask = 0xffffffffffffffffn): Instruction => ({ type: 'write_metadata', metadata, mask })
/** Shorthand: one apply-actions instruction as the whole instruction list. */
export const apply = (...actions: (Action | Action[])[]): Instruction[] => [applyActions(...actions)]

/** A flow with defaults (cookie 0, drop) and instructions in canonical order. */
export function flow(f: Pick<Flow, 'table' | 'priority'> & Partial<Pick<Flow, 'match' | 'cookie' | 'instructions'>>): Flow {
  return {
    table: f.table,
    priority: f.priority,
    match: f.match ?? {},
    cookie: f.cookie ?? 0n,
    instructions: canonicalInstructions(f.instructions ?? []),
  }
}
