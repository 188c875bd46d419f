/**
 * Actions and instructions (OF1.5.1 §7.2.4 and §7.2.5). Each fixed-layout entry lists its body after the 4-byte
 * `type,len` header as `[field, kind]` pairs; the codec loops over these layouts, so adding an action is one row.
 * Variable-length ones (`set_field`, `apply_actions`, `write_actions`) say `layout: 'custom'`.
 */

/** One element of a fixed body layout: a named integer or `pad` bytes. */
export type LayoutItem = readonly [name: string, kind: 'u8' | 'u16' | 'u32' | 'u64'] | readonly ['pad', number]

export interface WireEntryDef {
  readonly name: string
  readonly type: number
  /** Total length including the 4-byte header, for fixed layouts. */
  readonly len?: number
  readonly layout: readonly LayoutItem[] | 'custom'
}

export const ACTIONS = [
  {
    name: 'output',
    type: 0,
    len: 16,
    layout: [
      ['port', 'u32'],
      ['maxLen', 'u16'],
      ['pad', 6],
    ],
  },
  {
    name: 'push_vlan',
    type: 17,
    len: 8,
    layout: [
      ['ethertype', 'u16'],
      ['pad', 2],
    ],
  },
  { name: 'pop_vlan', type: 18, len: 8, layout: [['pad', 4]] },
  {
    name: 'push_mpls',
    type: 19,
    len: 8,
    layout: [
      ['ethertype', 'u16'],
      ['pad', 2],
    ],
  },
  {
    name: 'pop_mpls',
    type: 20,
    len: 8,
    layout: [
      ['ethertype', 'u16'],
      ['pad', 2],
    ],
  },
  { name: 'group', type: 22, len: 8, layout: [['groupId', 'u32']] },
  { name: 'dec_nw_ttl', type: 24, len: 8, layout: [['pad', 4]] },
  { name: 'set_field', type: 25, layout: 'custom' },
] as const satisfies readonly WireEntryDef[]

export const INSTRUCTIONS = [
  // Table order = execution order (OF1.5.1 §5.5) = the order OVS encodes them, so canonical flows sort by it.
  { name: 'apply_actions', type: 4, layout: 'custom' },
  { name: 'clear_actions', type: 5, len: 8, layout: [['pad', 4]] },
  { name: 'write_actions', type: 3, layout: 'custom' },
  {
    name: 'write_metadata',
    type: 2,
    len: 24,
    layout: [
      ['pad', 4],
      ['metadata', 'u64'],
      ['mask', 'u64'],
    ],
  },
  {
    name: 'goto_table',
    type: 1,
    len: 8,
    layout: [
      ['table', 'u8'],
      ['pad', 3],
    ],
  },
] as const satisfies readonly WireEntryDef[]

export const ACTION_BY_NAME: ReadonlyMap<string, (typeof ACTIONS)[number]> = new Map(ACTIONS.map((a) => [a.name, a]))
export const ACTION_BY_TYPE: ReadonlyMap<number, (typeof ACTIONS)[number]> = new Map(ACTIONS.map((a) => [a.type, a]))
export const INSTRUCTION_BY_NAME: ReadonlyMap<string, (typeof INSTRUCTIONS)[number] & { index: number }> = new Map(INSTRUCTIONS.map((i, index) => [i.name, { ...i, index }]))
export const INSTRUCTION_BY_TYPE: ReadonlyMap<number, (typeof INSTRUCTIONS)[number]> = new Map(INSTRUCTIONS.map((i) => [i.type, i]))
