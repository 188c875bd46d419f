/**
 * Regenerates the golden vectors in this folder from the real `ovs-ofctl`: a listening unix socket plays the
 * switch (HELLO, features, barrier, bundle and multipart replies), `ovs-ofctl <args> unix:<sock> ...` connects
 * to it, and every message it sends is written as hex to `<name>.txt` with the command in the header.
 *
 * Run: npx tsx appliance/ovs/openflow/testdata/capture-golden.ts
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))

export const CAPTURES: { name: string; args: string[]; keep: (type: number) => boolean }[] = [
  {
    name: 'flow-mod-add',
    args: ['--no-names', '-O', 'OpenFlow15', 'add-flow', '@', 'cookie=0xabc,table=5,priority=300,ip,in_port=1,nw_dst=10.200.0.0/24,reg0=7,actions=set_field:0x9->reg1,goto_table:6'],
    keep: (t) => t === 14,
  },
  {
    name: 'flow-mod-add-vlan',
    args: ['--no-names', '-O', 'OpenFlow15', 'add-flow', '@', 'table=0,priority=100,in_port=3,dl_src=aa:bb:cc:dd:ee:ff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:2'],
    keep: (t) => t === 14,
  },
  {
    name: 'flow-mod-add-tcp6',
    args: ['--no-names', '-O', 'OpenFlow15', 'add-flow', '@', 'cookie=0x1,table=1,priority=10,tcp6,ipv6_src=fd00::/64,ipv6_dst=fd00::1,tp_dst=443,metadata=0x5/0xff,reg3=0x10/0xf0,actions=output:4,write_metadata:0x1/0xff,goto_table:2'],
    keep: (t) => t === 14,
  },
  {
    name: 'flow-mod-modify-strict',
    args: ['--no-names', '-O', 'OpenFlow15', '--strict', 'mod-flows', '@', 'table=2,priority=7,udp,vlan_vid=0x1005,tp_src=53,reg1=1,reg2=2,actions=pop_vlan,output:1'],
    keep: (t) => t === 14,
  },
  {
    name: 'flow-mod-delete-strict',
    args: ['--no-names', '-O', 'OpenFlow15', '--strict', 'del-flows', '@', 'table=0,priority=100,in_port=3'],
    keep: (t) => t === 14,
  },
  {
    name: 'flow-mod-delete-cookie',
    args: ['--no-names', '-O', 'OpenFlow15', 'del-flows', '@', 'cookie=0xab000000/0xff000000'],
    keep: (t) => t === 14,
  },
  {
    name: 'bundle-add-flow',
    args: ['--no-names', '-O', 'OpenFlow15', '--bundle', 'add-flow', '@', 'table=0,priority=1,in_port=1,actions=output:2'],
    keep: (t) => t === 33 || t === 34,
  },
  {
    name: 'flow-stats-request',
    args: ['--no-names', '-O', 'OpenFlow15', 'dump-flows', '@', 'cookie=0x10/0xf0'],
    keep: (t) => t === 18,
  },
  {
    name: 'flow-stats-request-14',
    args: ['--no-names', '-O', 'OpenFlow14', 'dump-flows', '@', 'table=3'],
    keep: (t) => t === 18,
  },
]

function reply(sock: Socket, version: number, type: number, xid: number, body: Buffer): void {
  const h = Buffer.alloc(8)
  h[0] = version
  h[1] = type
  h.writeUInt16BE(8 + body.length, 2)
  h.writeUInt32BE(xid, 4)
  sock.write(Buffer.concat([h, body]))
}

/** Play a switch speaking `version` and return every message the client sent. */
async function capture(args: string[]): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ofcap-'))
  const path = join(dir, 'sw.sock')
  const got: Buffer[] = []
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0)
    let version = 6
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const len = buf.readUInt16BE(2)
        const m = buf.subarray(0, len)
        buf = buf.subarray(len)
        const type = m[1]!
        const xid = m.readUInt32BE(4)
        got.push(Buffer.from(m))
        if (type === 0) {
          version = m[0]!
          // Advertise 1.4 and 1.5 so the client picks the one it was told to use.
          reply(sock, version, 0, 1, Buffer.from('00010008' + (0x60).toString(16).padStart(8, '0'), 'hex'))
        } else if (type === 5) {
          reply(sock, version, 6, xid, Buffer.from('0000000000000001' + '00000000' + 'fe00' + '0000' + '0000004f' + '00000000', 'hex'))
        } else if (type === 20) reply(sock, version, 21, xid, Buffer.alloc(0))
        else if (type === 2) reply(sock, version, 3, xid, m.subarray(8))
        else if (type === 33) {
          const body = Buffer.from(m.subarray(8, 16))
          body.writeUInt16BE(body.readUInt16BE(4) + 1, 4)
          reply(sock, version, 33, xid, body)
        } else if (type === 18 && m.readUInt16BE(8) === 1) reply(sock, version, 19, xid, Buffer.from(m.subarray(8, 16)).fill(0, 2))
        // Other multipart requests (table features): OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART, as a switch without them.
        else if (type === 18) reply(sock, version, 1, xid, Buffer.concat([Buffer.from('00010002', 'hex'), m.subarray(0, 64)]))
      }
    })
  })
  await new Promise<void>((res) => server.listen(path, res))
  try {
    await run('ovs-ofctl', args.map((a) => (a === '@' ? `unix:${path}` : a)), { timeout: 10_000 })
  } finally {
    server.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return got
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const c of CAPTURES) {
    const msgs = (await capture(c.args)).filter((m) => c.keep(m[1]!))
    const cmd = `ovs-ofctl ${c.args.map((a) => (a === '@' ? 'unix:<capture.sock>' : `'${a}'`)).join(' ')}`
    const text = [
      `# produced by: ${cmd}`,
      '# (OVS 3.1.0; captured by testdata/capture-golden.ts playing the switch; one message per line, hex)',
      ...msgs.map((m) => m.toString('hex')),
      '',
    ].join('\n')
    writeFileSync(join(here, `${c.name}.txt`), text)
    console.log(c.name, msgs.length)
  }
}
