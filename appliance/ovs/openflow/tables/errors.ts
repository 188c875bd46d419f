/**
 * OFPT_ERROR types and codes with the spec's names (OF1.5.1 §7.5.4, `ofp_error_type` and the per-type
 * `ofp_*_failed_code` enums). Index in each `codes` list = the wire code.
 */

export const OFP_ERRORS = [
  { type: 0, name: 'OFPET_HELLO_FAILED', codes: ['OFPHFC_INCOMPATIBLE', 'OFPHFC_EPERM'] },
  {
    type: 1,
    name: 'OFPET_BAD_REQUEST',
    codes: [
      'OFPBRC_BAD_VERSION',
      'OFPBRC_BAD_TYPE',
      'OFPBRC_BAD_MULTIPART',
      'OFPBRC_BAD_EXPERIMENTER',
      'OFPBRC_BAD_EXP_TYPE',
      'OFPBRC_EPERM',
      'OFPBRC_BAD_LEN',
      'OFPBRC_BUFFER_EMPTY',
      'OFPBRC_BUFFER_UNKNOWN',
      'OFPBRC_BAD_TABLE_ID',
      'OFPBRC_IS_SLAVE',
      'OFPBRC_BAD_PORT',
      'OFPBRC_BAD_PACKET',
      'OFPBRC_MULTIPART_BUFFER_OVERFLOW',
      'OFPBRC_MULTIPART_REQUEST_TIMEOUT',
      'OFPBRC_MULTIPART_REPLY_TIMEOUT',
    ],
  },
  {
    type: 2,
    name: 'OFPET_BAD_ACTION',
    codes: [
      'OFPBAC_BAD_TYPE',
      'OFPBAC_BAD_LEN',
      'OFPBAC_BAD_EXPERIMENTER',
      'OFPBAC_BAD_EXP_TYPE',
      'OFPBAC_BAD_OUT_PORT',
      'OFPBAC_BAD_ARGUMENT',
      'OFPBAC_EPERM',
      'OFPBAC_TOO_MANY',
      'OFPBAC_BAD_QUEUE',
      'OFPBAC_BAD_OUT_GROUP',
      'OFPBAC_MATCH_INCONSISTENT',
      'OFPBAC_UNSUPPORTED_ORDER',
      'OFPBAC_BAD_TAG',
      'OFPBAC_BAD_SET_TYPE',
      'OFPBAC_BAD_SET_LEN',
      'OFPBAC_BAD_SET_ARGUMENT',
    ],
  },
  {
    type: 3,
    name: 'OFPET_BAD_INSTRUCTION',
    codes: [
      'OFPBIC_UNKNOWN_INST',
      'OFPBIC_UNSUP_INST',
      'OFPBIC_BAD_TABLE_ID',
      'OFPBIC_UNSUP_METADATA',
      'OFPBIC_UNSUP_METADATA_MASK',
      'OFPBIC_BAD_EXPERIMENTER',
      'OFPBIC_BAD_EXP_TYPE',
      'OFPBIC_BAD_LEN',
      'OFPBIC_EPERM',
      'OFPBIC_DUP_INST',
    ],
  },
  {
    type: 4,
    name: 'OFPET_BAD_MATCH',
    codes: [
      'OFPBMC_BAD_TYPE',
      'OFPBMC_BAD_LEN',
      'OFPBMC_BAD_TAG',
      'OFPBMC_BAD_DL_ADDR_MASK',
      'OFPBMC_BAD_NW_ADDR_MASK',
      'OFPBMC_BAD_WILDCARDS',
      'OFPBMC_BAD_FIELD',
      'OFPBMC_BAD_VALUE',
      'OFPBMC_BAD_MASK',
      'OFPBMC_BAD_PREREQ',
      'OFPBMC_DUP_FIELD',
      'OFPBMC_EPERM',
    ],
  },
  {
    type: 5,
    name: 'OFPET_FLOW_MOD_FAILED',
    codes: [
      'OFPFMFC_UNKNOWN',
      'OFPFMFC_TABLE_FULL',
      'OFPFMFC_BAD_TABLE_ID',
      'OFPFMFC_OVERLAP',
      'OFPFMFC_EPERM',
      'OFPFMFC_BAD_TIMEOUT',
      'OFPFMFC_BAD_COMMAND',
      'OFPFMFC_BAD_FLAGS',
      'OFPFMFC_CANT_SYNC',
      'OFPFMFC_BAD_PRIORITY',
      'OFPFMFC_IS_SYNC',
    ],
  },
  {
    type: 6,
    name: 'OFPET_GROUP_MOD_FAILED',
    codes: [
      'OFPGMFC_GROUP_EXISTS',
      'OFPGMFC_INVALID_GROUP',
      'OFPGMFC_WEIGHT_UNSUPPORTED',
      'OFPGMFC_OUT_OF_GROUPS',
      'OFPGMFC_OUT_OF_BUCKETS',
      'OFPGMFC_CHAINING_UNSUPPORTED',
      'OFPGMFC_WATCH_UNSUPPORTED',
      'OFPGMFC_LOOP',
      'OFPGMFC_UNKNOWN_GROUP',
      'OFPGMFC_CHAINED_GROUP',
      'OFPGMFC_BAD_TYPE',
      'OFPGMFC_BAD_COMMAND',
      'OFPGMFC_BAD_BUCKET',
      'OFPGMFC_BAD_WATCH',
      'OFPGMFC_EPERM',
      'OFPGMFC_UNKNOWN_BUCKET',
      'OFPGMFC_BUCKET_EXISTS',
    ],
  },
  {
    type: 7,
    name: 'OFPET_PORT_MOD_FAILED',
    codes: ['OFPPMFC_BAD_PORT', 'OFPPMFC_BAD_HW_ADDR', 'OFPPMFC_BAD_CONFIG', 'OFPPMFC_BAD_ADVERTISE', 'OFPPMFC_EPERM'],
  },
  { type: 8, name: 'OFPET_TABLE_MOD_FAILED', codes: ['OFPTMFC_BAD_TABLE', 'OFPTMFC_BAD_CONFIG', 'OFPTMFC_EPERM'] },
  { type: 9, name: 'OFPET_QUEUE_OP_FAILED', codes: ['OFPQOFC_BAD_PORT', 'OFPQOFC_BAD_QUEUE', 'OFPQOFC_EPERM'] },
  { type: 10, name: 'OFPET_SWITCH_CONFIG_FAILED', codes: ['OFPSCFC_BAD_FLAGS', 'OFPSCFC_BAD_LEN', 'OFPSCFC_EPERM'] },
  { type: 11, name: 'OFPET_ROLE_REQUEST_FAILED', codes: ['OFPRRFC_STALE', 'OFPRRFC_UNSUP', 'OFPRRFC_BAD_ROLE'] },
  {
    type: 12,
    name: 'OFPET_METER_MOD_FAILED',
    codes: [
      'OFPMMFC_UNKNOWN',
      'OFPMMFC_METER_EXISTS',
      'OFPMMFC_INVALID_METER',
      'OFPMMFC_UNKNOWN_METER',
      'OFPMMFC_BAD_COMMAND',
      'OFPMMFC_BAD_FLAGS',
      'OFPMMFC_BAD_RATE',
      'OFPMMFC_BAD_BURST',
      'OFPMMFC_BAD_BAND',
      'OFPMMFC_BAD_BAND_VALUE',
      'OFPMMFC_OUT_OF_METERS',
      'OFPMMFC_OUT_OF_BANDS',
    ],
  },
  {
    type: 13,
    name: 'OFPET_TABLE_FEATURES_FAILED',
    codes: ['OFPTFFC_BAD_TABLE', 'OFPTFFC_BAD_METADATA', 'OFPTFFC_BAD_TYPE', 'OFPTFFC_BAD_LEN', 'OFPTFFC_BAD_ARGUMENT', 'OFPTFFC_EPERM'],
  },
  {
    type: 14,
    name: 'OFPET_BAD_PROPERTY',
    codes: ['OFPBPC_BAD_TYPE', 'OFPBPC_BAD_LEN', 'OFPBPC_BAD_VALUE', 'OFPBPC_TOO_MANY', 'OFPBPC_DUP_TYPE', 'OFPBPC_BAD_EXPERIMENTER', 'OFPBPC_BAD_EXP_TYPE', 'OFPBPC_BAD_EXP_VALUE', 'OFPBPC_EPERM'],
  },
  { type: 15, name: 'OFPET_ASYNC_CONFIG_FAILED', codes: ['OFPACFC_INVALID', 'OFPACFC_UNSUPPORTED', 'OFPACFC_EPERM'] },
  {
    type: 16,
    name: 'OFPET_FLOW_MONITOR_FAILED',
    codes: ['OFPMOFC_UNKNOWN', 'OFPMOFC_MONITOR_EXISTS', 'OFPMOFC_INVALID_MONITOR', 'OFPMOFC_UNKNOWN_MONITOR', 'OFPMOFC_BAD_COMMAND', 'OFPMOFC_BAD_FLAGS', 'OFPMOFC_BAD_TABLE_ID', 'OFPMOFC_BAD_OUT'],
  },
  {
    type: 17,
    name: 'OFPET_BUNDLE_FAILED',
    codes: [
      'OFPBFC_UNKNOWN',
      'OFPBFC_EPERM',
      'OFPBFC_BAD_ID',
      'OFPBFC_BUNDLE_EXIST',
      'OFPBFC_BUNDLE_CLOSED',
      'OFPBFC_OUT_OF_BUNDLES',
      'OFPBFC_BAD_TYPE',
      'OFPBFC_BAD_FLAGS',
      'OFPBFC_MSG_BAD_LEN',
      'OFPBFC_MSG_BAD_XID',
      'OFPBFC_MSG_UNSUP',
      'OFPBFC_MSG_CONFLICT',
      'OFPBFC_MSG_TOO_MANY',
      'OFPBFC_MSG_FAILED',
      'OFPBFC_TIMEOUT',
      'OFPBFC_BUNDLE_IN_PROGRESS',
    ],
  },
] as const

/** `OFPET_EXPERIMENTER`: `code` is the experimenter's own, followed by a u32 experimenter id. */
export const OFPET_EXPERIMENTER = 0xffff

const BY_TYPE: ReadonlyMap<number, (typeof OFP_ERRORS)[number]> = new Map(OFP_ERRORS.map((e) => [e.type, e]))

/** Names for a (type, code) pair; unknown numbers keep their digits so nothing is lost. */
export function nameOfpError(type: number, code: number): { typeName: string; codeName: string } {
  if (type === OFPET_EXPERIMENTER) return { typeName: 'OFPET_EXPERIMENTER', codeName: `exp_code=${code}` }
  const entry = BY_TYPE.get(type)
  if (!entry) return { typeName: `OFPET_UNKNOWN(${type})`, codeName: `code=${code}` }
  const codes: readonly string[] = entry.codes
  return { typeName: entry.name, codeName: codes[code] ?? `code=${code}` }
}
