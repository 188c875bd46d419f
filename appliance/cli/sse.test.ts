import { describe, expect, it } from 'vitest'
import { readSse, type SseMessage } from './sse.js'

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const enc = new TextEncoder()
  async function* body() {
    for (const c of chunks) yield enc.encode(c)
  }
  const out: SseMessage[] = []
  for await (const m of readSse(body())) out.push(m)
  return out
}

describe('readSse', () => {
  it('reads messages split anywhere across chunks, skipping comments (keep-alives)', async () => {
    const text = 'event: ADDED\nid: 5\ndata: {"a":1}\n\n: keep-alive\n\nevent: DELETED\r\nid: 6\r\ndata: x\r\ndata: y\r\n\r\n'
    for (const size of [1, 2, 7, text.length]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!
      expect(await collect(chunks)).toEqual([
        { event: 'ADDED', id: '5', data: '{"a":1}' },
        { event: 'DELETED', id: '6', data: 'x\ny' },
      ])
    }
  })

  it('defaults the event to "message", keeps the last id, and drops a message cut off by the end', async () => {
    expect(await collect(['id: 1\ndata:a\n\ndata: b\n\ndata: cut'])).toEqual([
      { event: 'message', id: '1', data: 'a' },
      { event: 'message', id: '1', data: 'b' },
    ])
  })
})
