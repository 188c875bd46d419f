/**
 * The message model: plain objects that the codec turns into bytes and back. Field names follow the spec in
 * camelCase; every field is present after decoding, so `decode(encode(x))` deep-equals `x` for a full `x`.
 */
import type { BundleCtrlType, FlowModCommand, PortReason } from './tables/messages.js'
import type { OxmFieldName, OxmValue } from './tables/oxm.js'

export interface Masked<T> {
  value: T
  mask: T
}
export type MatchValue<N extends OxmFieldName> = OxmValue<N> | Masked<OxmValue<N>>
/** An OXM match: absent fields are wildcards. A mask of all ones is the same as no mask. */
export type Match = { [N in OxmFieldName]?: MatchValue<N> }

/** `set_field` with a field name and its (unmasked) value. */
export type SetFieldAction = { [N in OxmFieldName]: { type: 'set_field'; field: N; value: OxmValue<N> } }[OxmFieldName]

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'push_mpls'; ethertype: number }
  | { type: 'pop_mpls'; ethertype: number }
  | { type: 'group'; groupId: number }
  | { type: 'dec_nw_ttl' }
  | SetFieldAction
  /**
   * An action we do not model (Nicira extensions such as resubmit, ct, learn), kept as its bytes after the
   * 4-byte header so flows installed by others still decode (and re-encode) instead of failing a dump.
   */
  | { type: 'raw'; actionType: number; body: Buffer }

export type Instruction =
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'write_metadata'; metadata: bigint; mask: bigint }
  | { type: 'goto_table'; table: number }

export interface FlowMod {
  command: FlowModCommand
  cookie: bigint
  cookieMask: bigint
  table: number
  idleTimeout: number
  hardTimeout: number
  priority: number
  bufferId: number
  outPort: number
  outGroup: number
  flags: number
  importance: number
  match: Match
  instructions: Instruction[]
}

/**
 * A flow mod given with defaults: identity and data are required; command defaults to `add`, timeouts, flags
 * and importance to 0, cookie mask to 0, buffer/out port/out group to none/ANY. A flow of the flow model is one.
 */
export type FlowModInput = Pick<FlowMod, 'table' | 'priority' | 'match' | 'cookie' | 'instructions'> & Partial<FlowMod>

/** One entry of a flow-stats reply (OF1.4 `ofp14_flow_stats`, OF1.5 `ofp15_flow_desc` + OXS). */
export interface FlowStatsEntry {
  table: number
  priority: number
  idleTimeout: number
  hardTimeout: number
  flags: number
  importance: number
  cookie: bigint
  durationSec: number
  durationNsec: number
  packetCount: bigint
  byteCount: bigint
  match: Match
  instructions: Instruction[]
}

export interface FlowStatsRequest {
  flags: number
  table: number
  outPort: number
  outGroup: number
  cookie: bigint
  cookieMask: bigint
  match: Match
}

export interface PortDesc {
  portNo: number
  hwAddr: string
  name: string
  config: number
  state: number
}

export type OfMessage =
  | { type: 'hello'; versions: number[] }
  | { type: 'error'; errorType: number; code: number; data: Buffer }
  | { type: 'echo_request'; data: Buffer }
  | { type: 'echo_reply'; data: Buffer }
  | { type: 'features_request' }
  | {
      type: 'features_reply'
      datapathId: bigint
      nBuffers: number
      nTables: number
      auxiliaryId: number
      capabilities: number
    }
  | { type: 'set_config'; flags: number; missSendLen: number }
  | { type: 'barrier_request' }
  | { type: 'barrier_reply' }
  | ({ type: 'flow_mod' } & FlowMod)
  | { type: 'bundle_control'; bundleId: number; ctrl: BundleCtrlType; flags: number }
  | { type: 'bundle_add_message'; bundleId: number; flags: number; message: OfMessage }
  | ({ type: 'flow_stats_request' } & FlowStatsRequest)
  | { type: 'flow_stats_reply'; flags: number; flows: FlowStatsEntry[] }
  | { type: 'port_desc_request'; flags: number }
  | { type: 'port_desc_reply'; flags: number; ports: PortDesc[] }
  | { type: 'port_status'; reason: PortReason; port: PortDesc }
  /** A message type we know by name but do not model (packet-in, role status, ...): kept raw. */
  | { type: 'other'; ofpType: number; name: string; body: Buffer }

/** A message with its header facts. */
export interface OfFrame {
  version: number
  xid: number
  msg: OfMessage
}
