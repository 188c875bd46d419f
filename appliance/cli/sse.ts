/**
 * Server-sent events (WHATWG HTML §9.2.6, "Interpreting an event stream") from a byte stream: lines end in LF,
 * CRLF or CR; `field: value` lines (one leading space dropped) build a message; a blank line dispatches it; lines
 * starting with `:` are comments (the appliance's keep-alives). Enough for the appliance's `?watch=true`.
 */

export interface SseMessage {
  /** `event:`; "message" when absent. */
  event: string
  /** `id:` of this message, or the last one seen. */
  id: string
  /** `data:` lines joined by "\n". */
  data: string
}

/** The messages of `body` in order; ends when the stream ends (a last message without its blank line is dropped). */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  let buffer = ''
  let id = ''
  let event = ''
  let data: string[] = []
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let match: RegExpExecArray | null
    const lineEnd = /\r\n|\r|\n/g
    let from = 0
    while ((match = lineEnd.exec(buffer)) !== null) {
      // a CR at the very end may be the first half of a CRLF: wait for the next chunk
      if (match[0] === '\r' && match.index === buffer.length - 1) break
      const line = buffer.slice(from, match.index)
      from = match.index + match[0].length
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', id, data: data.join('\n') }
        event = ''
        data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
      else if (field === 'id' && !value.includes('\0')) id = value
    }
    buffer = buffer.slice(from)
  }
}
