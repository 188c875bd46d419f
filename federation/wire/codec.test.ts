import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MAX_MESSAGE_BYTES } from '../../api/federation/messages.js'
import type { AgentMessage, HubMessage } from '../../api/federation/messages.js'
import { encodeCanonical } from './cbor.js'
import { decodeAgentMessage, decodeHubMessage, encodeAgentMessage, encodeHubMessage } from './codec.js'
import { encodeDeltaChunks } from './chunk.js'
import { hashObject, hashSet } from './hash.js'

interface Golden {
  name: string
  direction: 'agent' | 'hub'
  message: unknown
  hex: string
}
const GOLDEN = JSON.parse(readFileSync(new URL('./testdata/messages.golden.json', import.meta.url), 'utf8')) as Golden[]

describe.each(GOLDEN)('golden $name', ({ direction, message, hex }) => {
  it('encodes to the reference bytes', () => {
    const bytes = direction === 'agent' ? encodeAgentMessage(message as AgentMessage) : encodeHubMessage(message as HubMessage)
    expect(bytes.toString('hex')).toBe(hex)
  })
  it('decodes back to the same message', () => {
    const r = direction === 'agent' ? decodeAgentMessage(Buffer.from(hex, 'hex')) : decodeHubMessage(Buffer.from(hex, 'hex'))
    expect(r.ok && r.message).toEqual(message)
  })
})

describe('message validation', () => {
  it('rejects an unknown message type by name', () => {
    const r = decodeAgentMessage(encodeCanonical({ v: 1, type: 'subscribe' }))
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error.message).toMatch(/unknown message type "subscribe"/)
    expect(!r.ok && r.error.code).toBe('federation.protocol')
  })
  it('accepts a heartbeat in both directions with the same bytes', () => {
    const bytes = encodeCanonical({ v: 1, type: 'heartbeat' })
    expect(decodeHubMessage(bytes)).toMatchObject({ ok: true, message: { type: 'heartbeat' } })
    expect(decodeAgentMessage(bytes)).toMatchObject({ ok: true, message: { type: 'heartbeat' } })
  })
  it('rejects a hub message type sent by an agent', () => {
    const r = decodeAgentMessage(encodeCanonical({ v: 1, type: 'bookmark', revision: 1, nonce: 'x', chunks: 0, committedAt: 0 }))
    expect(!r.ok && r.error.message).toMatch(/unknown message type "bookmark"/)
  })
  it('rejects another protocol version', () => {
    const r = decodeAgentMessage(encodeCanonical({ v: 2, type: 'heartbeat' }))
    expect(!r.ok && r.error.message).toMatch(/unsupported protocol version 2/)
  })
  it('reports field issues with their path', () => {
    const r = decodeAgentMessage(encodeCanonical({ v: 1, type: 'ack', nonce: 'n', revision: -3 }))
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error.issues[0]?.path).toBe('revision')
  })
  it('rejects malformed CBOR without throwing', () => {
    const r = decodeHubMessage(Buffer.from('a2617601', 'hex'))
    expect(!r.ok && r.error.message).toMatch(/malformed CBOR/)
  })
  it('refuses oversized messages both when encoding and decoding', () => {
    const big = { v: 1, type: 'nack', nonce: 'n', lastGoodRevision: 0, error: { code: 'x', message: 'y'.repeat(4000) } } as const
    expect(() => encodeAgentMessage(big, 1024)).toThrow(/exceeds the 1024-byte limit/)
    const r = decodeAgentMessage(encodeCanonical(big), 1024)
    expect(!r.ok && r.error.code).toBe('federation.too-large')
  })
})

describe('chunking', () => {
  const obj = (i: number) => {
    const object = {
      apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
      kind: 'ServiceInterface',
      metadata: { name: `if-${i}`, namespace: 'default' },
      spec: { interfaceType: 'physical', physical: { interfaceName: `p${i}` }, pad: 'x'.repeat(1000) },
    }
    return { key: `svc.dpu.nvidia.com/v1alpha1/ServiceInterface/default/if-${i}`, hash: hashObject(object), object }
  }
  it('splits a large set into chunks under the target that join back to the whole set', () => {
    const upserts = Array.from({ length: 100 }, (_, i) => obj(i))
    const removals = Array.from({ length: 50 }, (_, i) => `k/${i}`)
    const chunks = encodeDeltaChunks(upserts, removals, { target: 16 * 1024 })
    expect(chunks.length).toBeGreaterThan(5)
    const decoded = chunks.map((c) => decodeHubMessage(c))
    const joined = decoded.flatMap((d) => (d.ok && d.message.type === 'push' ? d.message.upserts : []))
    expect(joined).toEqual(upserts)
    expect(decoded.flatMap((d) => (d.ok && d.message.type === 'push' ? d.message.removals : []))).toEqual(removals)
    expect(decoded.map((d) => d.ok && d.message.type === 'push' && d.message.seq)).toEqual(chunks.map((_, i) => i))
    for (const c of chunks) expect(c.length).toBeLessThan(16 * 1024 + 2048)
  })
  it('sends nothing for an empty delta and refuses one object over the message limit', () => {
    expect(encodeDeltaChunks([], [])).toEqual([])
    const huge = obj(1)
    huge.object.spec.pad = 'x'.repeat(MAX_MESSAGE_BYTES)
    expect(() => encodeDeltaChunks([huge], [])).toThrow(/exceeds/)
  })
})

describe('hashes', () => {
  it('depend on content, not key order or status', () => {
    const a = { apiVersion: 'v1', kind: 'K', metadata: { name: 'n', labels: { b: '1', a: '2' } }, spec: { x: 1, y: [1, 2] } }
    const b = { spec: { y: [1, 2], x: 1 }, metadata: { labels: { a: '2', b: '1' }, name: 'n' }, kind: 'K', apiVersion: 'v1', status: { phase: 'Ready' } }
    expect(hashObject(a)).toBe(hashObject(b))
    expect(hashObject(a)).not.toBe(hashObject({ ...a, spec: { x: 2, y: [1, 2] } }))
    expect(hashObject(a)).toMatch(/^[0-9a-f]{32}$/)
  })
  it('hash sets independently of insertion order', () => {
    expect(
      hashSet([
        ['a', '1'],
        ['b', '2'],
      ]),
    ).toBe(
      hashSet([
        ['b', '2'],
        ['a', '1'],
      ]),
    )
    expect(hashSet([['a', '1']])).not.toBe(hashSet([['a', '2']]))
  })
})
