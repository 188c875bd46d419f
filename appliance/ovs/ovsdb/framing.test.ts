import { describe, expect, it } from 'vitest'
import { OvsdbMessageTooLargeError, OvsdbProtocolError } from './errors.js'
import { JsonStreamSplitter } from './framing.js'

const messages = [
  { id: 1, method: 'echo', params: [] },
  { id: null, method: 'update3', params: ['m', '00000000-0000-0000-0000-000000000000', { Bridge: { u: { modify: { name: 'a}"]{[' } } } }] },
  { result: ['Open_vSwitch', '_Server'], error: null, id: 7 },
  { s: 'quote \\" backslash \\\\ brace } bracket ] unicode é 日本 \u0001', nested: [[[{}]], []] },
  [1, 2, { a: '\\' }],
]
const stream = Buffer.from(messages.map((m) => JSON.stringify(m)).join(' \n\t'), 'utf8')

describe('JsonStreamSplitter', () => {
  it('splits back-to-back messages delivered in one chunk', () => {
    expect(new JsonStreamSplitter().push(stream)).toEqual(messages)
  })

  it('splits the same stream fed one byte at a time', () => {
    const splitter = new JsonStreamSplitter()
    const out: unknown[] = []
    for (let i = 0; i < stream.length; i++) out.push(...splitter.push(stream.subarray(i, i + 1)))
    expect(out).toEqual(messages)
    expect(splitter.bufferedBytes).toBe(0)
    expect(splitter.midMessage).toBe(false)
  })

  it('splits at every possible two-chunk boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const splitter = new JsonStreamSplitter()
      const out = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))]
      expect(out, `cut at ${cut}`).toEqual(messages)
    }
  })

  it('reports an unfinished message (a close now is a truncation)', () => {
    const splitter = new JsonStreamSplitter()
    expect(splitter.push(Buffer.from('{"id":1,"res'))).toEqual([])
    expect(splitter.midMessage).toBe(true)
    expect(splitter.bufferedBytes).toBe(12)
  })

  it('throws a protocol error on bytes between messages', () => {
    const splitter = new JsonStreamSplitter()
    expect(() => splitter.push(Buffer.from('{"a":1} garbage'))).toThrow(OvsdbProtocolError)
    // A failed splitter stays failed: the connection must go.
    expect(() => splitter.push(Buffer.from('{}'))).toThrow(/already failed/)
  })

  it('throws a protocol error on balanced but invalid JSON', () => {
    expect(() => new JsonStreamSplitter().push(Buffer.from('{abc}'))).toThrow(/malformed JSON/)
  })

  it('bounds the buffer: an over-long message fails before it ends and releases the bytes', () => {
    const splitter = new JsonStreamSplitter({ maxMessageBytes: 1024 })
    splitter.push(Buffer.from('{"a":"'))
    let error: unknown
    try {
      for (let i = 0; i < 100; i++) splitter.push(Buffer.alloc(100, 0x78))
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(OvsdbMessageTooLargeError)
    expect((error as OvsdbMessageTooLargeError).context).toMatchObject({ limit: 1024 })
    expect(splitter.bufferedBytes).toBe(0)
  })

  it('accepts a message of exactly the limit', () => {
    const text = JSON.stringify({ a: 'x'.repeat(100) })
    expect(new JsonStreamSplitter({ maxMessageBytes: text.length }).push(Buffer.from(text))).toEqual([{ a: 'x'.repeat(100) }])
    expect(() => new JsonStreamSplitter({ maxMessageBytes: text.length - 1 }).push(Buffer.from(text))).toThrow(OvsdbMessageTooLargeError)
  })
})
