/**
 * Byte-level oracle: every message kind the client encodes, decoded by the real `ovs-ofctl ofp-print`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { encodeMessage, type OfMessage } from '../openflow/index.js'
import { flowModFor } from './flow.js'
import { renderFlow } from './render.js'
import { FLOW_CASES } from './testdata/flow-cases.js'

const run = promisify(execFile)
const ofpPrint = async (msg: OfMessage, version: number): Promise<string> => (await run('ovs-ofctl', ['ofp-print', encodeMessage(msg, version, 0x10).toString('hex')])).stdout.trimEnd()

const V = { 5: 'OF1.4', 6: 'OF1.5' } as const

describe.each([5, 6] as const)('ovs-ofctl ofp-print decodes what we encode (version 0x0%s)', (version) => {
  const head = (name: string): string => `${name} (${V[version]}) (xid=0x10):`

  const messages: [OfMessage, string][] = [
    [{ type: 'hello', versions: [5, 6] }, `${head('OFPT_HELLO')}\n version bitmap: 0x05, 0x06`],
    [{ type: 'echo_request', data: Buffer.from('abcd', 'hex') }, `${head('OFPT_ECHO_REQUEST')} 2 bytes of payload\n00000000  ab cd                                           |..              |`],
    [{ type: 'echo_reply', data: Buffer.alloc(0) }, `${head('OFPT_ECHO_REPLY')} 0 bytes of payload`],
    [{ type: 'features_request' }, head('OFPT_FEATURES_REQUEST')],
    [{ type: 'set_config', flags: 0, missSendLen: 0xffff }, `${head('OFPT_SET_CONFIG')} frags=normal miss_send_len=65535`],
    [{ type: 'barrier_request' }, head('OFPT_BARRIER_REQUEST')],
    [{ type: 'bundle_control', bundleId: 7, ctrl: 'open_request', flags: 3 }, `${head('OFPT_BUNDLE_CONTROL')}\n bundle_id=0x7 type=OPEN_REQUEST flags=atomic ordered`],
    [{ type: 'bundle_control', bundleId: 7, ctrl: 'commit_request', flags: 3 }, `${head('OFPT_BUNDLE_CONTROL')}\n bundle_id=0x7 type=COMMIT_REQUEST flags=atomic ordered`],
    [{ type: 'bundle_control', bundleId: 7, ctrl: 'discard_request', flags: 3 }, `${head('OFPT_BUNDLE_CONTROL')}\n bundle_id=0x7 type=DISCARD_REQUEST flags=atomic ordered`],
    [{ type: 'port_desc_request', flags: 0 }, `${head('OFPST_PORT_DESC request')} port=ANY`],
    [
      { type: 'flow_stats_request', flags: 0, table: 3, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: { in_port: 1 } },
      `${head('OFPST_FLOW request')} table=3 in_port=1`,
    ],
  ]
  it.each(messages.map(([m, t], i) => [`${i} ${m.type}`, m, t] as const))('%s', async (_name, msg, text) => {
    expect(await ofpPrint(msg, version)).toBe(text)
  })

  describe.each(FLOW_CASES)('flow $text', ({ flow, text }) => {
    const table = flow.table ? `table:${flow.table} ` : ''
    const [match, actions] = text.split(' actions=') as [string, string]
    it('ADD', async () => {
      const cookie = flow.cookie ? ` cookie:0x${flow.cookie.toString(16)}` : ''
      expect(await ofpPrint({ type: 'flow_mod', ...flowModFor(flow, 'add') }, version)).toBe(`${head('OFPT_FLOW_MOD')} ADD ${table}${match}${cookie} actions=${actions}`)
    })
    it('MODIFY_STRICT', async () => {
      expect(await ofpPrint({ type: 'flow_mod', ...flowModFor(flow, 'modify_strict') }, version)).toBe(`${head('OFPT_FLOW_MOD')} MOD_STRICT ${table}${text}`)
    })
    it('DELETE_STRICT', async () => {
      expect(await ofpPrint({ type: 'flow_mod', ...flowModFor(flow, 'delete_strict') }, version)).toBe(`${head('OFPT_FLOW_MOD')} DEL_STRICT ${table}${match} actions=drop`)
    })
    it('inside BUNDLE_ADD_MESSAGE', async () => {
      const out = await ofpPrint({ type: 'bundle_add_message', bundleId: 9, flags: 3, message: { type: 'flow_mod', ...flowModFor(flow, 'add') } }, version)
      expect(out.split('\n')[0]).toBe(head('OFPT_BUNDLE_ADD_MESSAGE'))
      expect(out).toContain(' bundle_id=0x9 flags=atomic ordered')
      expect(out).toContain(`OFPT_FLOW_MOD (${V[version]}) (xid=0x10): ADD ${table}${match}`)
    })
    it('renders to the same ovs-ofctl text', () => {
      expect(renderFlow(flow)).toBe(`cookie=0x${flow.cookie.toString(16)}, table=${flow.table}, ${text}`)
    })
  })

  it('delete by cookie mask across all tables', async () => {
    const msg: OfMessage = {
      type: 'flow_mod',
      command: 'delete',
      cookie: 0xab000000n,
      cookieMask: 0xff000000n,
      table: 0xff,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 0,
      bufferId: 0xffffffff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      flags: 0,
      importance: 0,
      match: {},
      instructions: [],
    }
    expect(await ofpPrint(msg, version)).toBe(`${head('OFPT_FLOW_MOD')} DEL table:255 priority=0 cookie:0xab000000/0xff000000 actions=drop`)
  })
})
