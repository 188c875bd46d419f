/**
 * OpenFlow 1.4/1.5 message-level wire facts, with the spec's names (openflow-spec 1.5.1 §7, OVS
 * `include/openflow/openflow-1.{1,3,4,5}.h`). Everything the codec needs to know about a number lives here.
 */

/** Wire versions we speak. OVS 3.1 advertises up to 1.5 on `<bridge>.mgmt`. */
export const OFP_VERSION = { OF14: 0x05, OF15: 0x06 } as const
export type OfVersion = (typeof OFP_VERSION)[keyof typeof OFP_VERSION]
export const SUPPORTED_VERSIONS: readonly OfVersion[] = [OFP_VERSION.OF14, OFP_VERSION.OF15]

export const OFP_HEADER_LEN = 8
/** `ofp_header.length` is a u16: no message, bundle-wrapped or not, may exceed this. */
export const OFP_MAX_MESSAGE_LEN = 0xffff

/** `ofp_type`, by the message names our model uses. */
export const OFPT = {
  hello: 0,
  error: 1,
  echo_request: 2,
  echo_reply: 3,
  experimenter: 4,
  features_request: 5,
  features_reply: 6,
  get_config_request: 7,
  get_config_reply: 8,
  set_config: 9,
  packet_in: 10,
  flow_removed: 11,
  port_status: 12,
  packet_out: 13,
  flow_mod: 14,
  group_mod: 15,
  port_mod: 16,
  table_mod: 17,
  multipart_request: 18,
  multipart_reply: 19,
  barrier_request: 20,
  barrier_reply: 21,
  role_request: 24,
  role_reply: 25,
  get_async_request: 26,
  get_async_reply: 27,
  set_async: 28,
  meter_mod: 29,
  role_status: 30,
  table_status: 31,
  requestforward: 32,
  bundle_control: 33,
  bundle_add_message: 34,
  controller_status: 35,
} as const

/** `OFPHET_VERSIONBITMAP`: the HELLO element carrying the version bitmap. */
export const OFPHET_VERSIONBITMAP = 1

/** `ofp_flow_mod_command`. */
export const OFPFC = { add: 0, modify: 1, modify_strict: 2, delete: 3, delete_strict: 4 } as const
export type FlowModCommand = keyof typeof OFPFC

/** Reserved port numbers (`ofp_port_no`). */
export const OFPP = {
  MAX: 0xffffff00,
  UNSET: 0xfffffff7,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const
export const OFPG_ANY = 0xffffffff
export const OFPTT_ALL = 0xff
export const OFP_NO_BUFFER = 0xffffffff

/** `ofp_multipart_type` (OF1.5 renames FLOW to FLOW_DESC; same number). */
export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
} as const
export const OFPMPF_REPLY_MORE = 1

/** `ofp_bundle_ctrl_type` (OF1.4 §7.3.9). */
export const OFPBCT = {
  open_request: 0,
  open_reply: 1,
  close_request: 2,
  close_reply: 3,
  commit_request: 4,
  commit_reply: 5,
  discard_request: 6,
  discard_reply: 7,
} as const
export type BundleCtrlType = keyof typeof OFPBCT

/** `ofp_bundle_flags`. */
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const

/** `ofp_port_reason`. */
export const OFPPR = { add: 0, delete: 1, modify: 2 } as const
export type PortReason = keyof typeof OFPPR

/** OXS (OF1.5 flow statistics TLVs): class and fields (`oxs_ofb_stat_fields`). */
export const OFPXSC_OPENFLOW_BASIC = 0x8002
export const OXS_FIELDS = [
  { name: 'duration', field: 0, bytes: 8 },
  { name: 'idle_time', field: 1, bytes: 8 },
  { name: 'flow_count', field: 3, bytes: 4 },
  { name: 'packet_count', field: 4, bytes: 8 },
  { name: 'byte_count', field: 5, bytes: 8 },
] as const

/** Reverse lookup built once from a name -> number table. */
export function invert<T extends Record<string, number>>(table: T): ReadonlyMap<number, keyof T & string> {
  return new Map(Object.entries(table).map(([k, v]) => [v, k as keyof T & string]))
}
