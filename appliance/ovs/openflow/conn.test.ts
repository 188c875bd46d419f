/**
 * Hostile peers. ovs-vswitchd never sends garbage, so these use a scripted switch on a real unix socket (a fake
 * by necessity): each case breaks the protocol one way and the client must report it, drop the connection,
 * reject what was pending, and reconnect, never crash or buffer without bound.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage } from './codec.js'
import { OpenFlowConnection } from './conn.js'
import type { OpenFlowProtocolError } from './errors.js'
import type { OfFrame } from './model.js'

interface Script {
  /** Called for every message the client sends on connection number `n` (0-based). */
  onMessage(sock: Socket, frame: OfFrame, n: number): void
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function scriptedSwitch(script: Script): Promise<{ path: string; connections: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'of-fake-'))
  const path = join(dir, 'br.mgmt')
  let n = 0
  const socks: Socket[] = []
  const server: Server = createServer((sock) => {
    const conn = n++
    socks.push(sock)
    sock.on('error', () => {})
    sock.write(encodeMessage({ type: 'hello', versions: [5, 6] }, 6, 1))
    let buf = Buffer.alloc(0)
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const len = buf.readUInt16BE(2)
        const frame = decodeMessage(Buffer.from(buf.subarray(0, len)))
        buf = buf.subarray(len)
        if (frame.msg.type === 'hello' || frame.msg.type === 'set_config') continue
        script.onMessage(sock, frame, conn)
      }
    })
  })
  await new Promise<void>((r) => server.listen(path, r))
  cleanups.push(async () => {
    for (const s of socks) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
    rmSync(dir, { recursive: true, force: true })
  })
  return { path, connections: () => n }
}

const features = (xid: number): Buffer => encodeMessage({ type: 'features_reply', datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 }, 6, xid)

/** A well-behaved switch for handshakes, with a hook for everything else. */
function polite(rest: (sock: Socket, f: OfFrame, n: number) => void): Script {
  return {
    onMessage(sock, f, n) {
      if (f.msg.type === 'features_request') sock.write(features(f.xid))
      else rest(sock, f, n)
    },
  }
}

function client(path: string): { conn: OpenFlowConnection; errors: OpenFlowProtocolError[] } {
  const conn = new OpenFlowConnection({ socketPath: path, backoff: { initialMs: 10, maxMs: 50 }, requestTimeoutMs: 2000, handshakeTimeoutMs: 500 })
  const errors: OpenFlowProtocolError[] = []
  conn.on('protocol-error', (e) => errors.push(e))
  cleanups.push(() => conn.close())
  return { conn: conn.start(), errors }
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('OpenFlow client against a misbehaving peer', () => {
  it('garbage (a length below the header size) is a protocol error, then it reconnects', async () => {
    const sw = await scriptedSwitch(
      polite((sock, f, n) => {
        if (f.msg.type === 'barrier_request' && n === 0) sock.write(Buffer.from('ffff0002deadbeef0000', 'hex'))
        else if (f.msg.type === 'barrier_request') sock.write(encodeMessage({ type: 'barrier_reply' }, 6, f.xid))
      }),
    )
    const { conn, errors } = client(sw.path)
    await conn.waitConnected()
    await expect(conn.barrier()).rejects.toMatchObject({ code: 'openflow.unavailable', retryable: true })
    expect(errors[0]?.message).toMatch(/message length 2 is shorter than the header/)
    await until(() => conn.connected && conn.generation === 2)
    await conn.barrier()
  })

  it('a truncated reply body is a protocol error naming the message', async () => {
    const sw = await scriptedSwitch(
      polite((sock, f, n) => {
        if (f.msg.type !== 'flow_stats_request') return
        const good = encodeMessage({ type: 'flow_stats_reply', flags: 0, flows: [] }, 6, f.xid)
        // Claim one flow entry of 64 bytes but send 4.
        const bad = Buffer.concat([good, Buffer.from('00400000', 'hex')])
        bad.writeUInt16BE(bad.length, 2)
        sock.write(n === 0 ? bad : good)
      }),
    )
    const { conn, errors } = client(sw.path)
    await conn.waitConnected()
    await expect(conn.multipart({ type: 'flow_stats_request', flags: 0, table: 255, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: {} })).rejects.toMatchObject({
      code: 'openflow.unavailable',
    })
    expect(errors[0]?.message).toMatch(/multipart_reply xid=\d+: truncated flow stats entry/)
    await until(() => conn.connected)
  })

  it('an over-long message (64 KiB claimed, then a flood) is bounded by the header length and rejected', async () => {
    const sw = await scriptedSwitch(
      polite((sock, f) => {
        if (f.msg.type !== 'barrier_request') return
        const flood = Buffer.alloc(1024 * 1024, 0x41)
        flood.writeUInt8(6, 0)
        flood.writeUInt8(21, 1) // BARRIER_REPLY with 65527 bytes of body
        flood.writeUInt16BE(0xffff, 2)
        flood.writeUInt32BE(f.xid, 4)
        sock.write(flood)
      }),
    )
    const { conn, errors } = client(sw.path)
    await conn.waitConnected()
    await expect(conn.barrier()).rejects.toMatchObject({ code: 'openflow.unavailable' })
    expect(errors[0]?.message).toMatch(/barrier_reply xid=\d+: 65527 trailing bytes/)
    expect(sw.connections()).toBeGreaterThanOrEqual(1)
    await until(() => sw.connections() >= 2)
  })

  it('a reply with an xid nobody asked for is a protocol error and fails what was pending', async () => {
    const sw = await scriptedSwitch(
      polite((sock, f, n) => {
        if (f.msg.type === 'barrier_request') sock.write(encodeMessage({ type: 'barrier_reply' }, 6, n === 0 ? f.xid + 1000 : f.xid))
      }),
    )
    const { conn, errors } = client(sw.path)
    await conn.waitConnected()
    await expect(conn.barrier()).rejects.toMatchObject({ code: 'openflow.unavailable' })
    expect(errors[0]?.message).toMatch(/barrier_reply with xid \d+ answers no request of ours/)
    await until(() => conn.connected && conn.generation === 2)
    await conn.barrier()
  })

  it('a message in another version than negotiated is a protocol error', async () => {
    const sw = await scriptedSwitch(polite((sock, f) => f.msg.type === 'barrier_request' && sock.write(encodeMessage({ type: 'barrier_reply' }, 4, f.xid))))
    const { conn, errors } = client(sw.path)
    await conn.waitConnected()
    await expect(conn.barrier()).rejects.toMatchObject({ code: 'openflow.unavailable' })
    expect(errors[0]?.message).toMatch(/version 0x4, negotiated 0x6/)
  })

  it('a silent peer times out the handshake and is retried with backoff', async () => {
    const sw = await scriptedSwitch({ onMessage: () => {} })
    const { conn } = client(sw.path)
    await expect(conn.waitConnected(1200)).rejects.toMatchObject({ code: 'openflow.unavailable', message: /OpenFlow handshake: no reply within 500 ms/ })
    expect(sw.connections()).toBeGreaterThanOrEqual(2)
  })

  it('no listener: waitConnected fails with the socket error, requests fail fast', async () => {
    const { conn } = client(join(tmpdir(), 'of-nothing-here.mgmt'))
    await expect(conn.waitConnected(200)).rejects.toMatchObject({ code: 'openflow.unavailable', message: /ENOENT/ })
    expect(() => conn.send({ type: 'barrier_request' })).toThrowError(/is (connecting|backoff)/)
  })
})
