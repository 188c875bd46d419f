/**
 * Where a JSON text first goes wrong. Node 20's `JSON.parse` names the offset for some errors only
 * ("Unexpected token '}', ... is not valid JSON" has none), and users need a line and column; this strict
 * RFC 8259 scanner finds it. Only called after `JSON.parse` failed, so speed does not matter.
 */
class Stop {
  constructor(readonly offset: number) {}
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
const ESCAPES = '"\\/bfnrt'

/** Offset of the first syntax error in `text`, or -1 when it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0
  const fail = (at = i): never => {
    throw new Stop(at)
  }
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const expect = (c: string): void => {
    if (text[i] !== c) fail()
    i++
  }
  const string = (): void => {
    expect('"')
    for (;;) {
      if (i >= text.length) fail()
      const c = text[i]!
      if (c === '"') return void i++
      if (c === '\\') {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i + 2)
          i += 6
        } else if (e !== undefined && ESCAPES.includes(e)) i += 2
        else fail(i + 1)
      } else if (c.charCodeAt(0) < 0x20) fail()
      else i++
    }
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        string()
        ws()
        expect(':')
        value()
        ws()
        if (text[i] === ',') i++
        else return expect('}')
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else return expect(']')
      }
    }
    if (c === '"') return string()
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) return void (i += lit.length)
    NUMBER.lastIndex = i
    if (NUMBER.test(text)) return void (i = NUMBER.lastIndex)
    fail()
  }
  try {
    value()
    ws()
    if (i < text.length) fail()
    return -1
  } catch (e) {
    if (e instanceof Stop) return e.offset
    throw e
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let start = 0
  for (let j = 0; j < offset && j < text.length; j++)
    if (text[j] === '\n') {
      line++
      start = j + 1
    }
  return { line, column: offset - start + 1 }
}
