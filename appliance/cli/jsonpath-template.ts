/**
 * kubectl's JSONPath templates (`-o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'`) on top of
 * jsonpath-plus, which evaluates the paths. This module only bridges the two syntaxes: it splits the template
 * into text, `{expression}`, `{"literal"}`, `{range expression}` ... `{end}`, and turns kubectl's relative paths
 * (`.items[*]`, `@.x`, `labels.app\.kubernetes\.io/name`) into the `$`-rooted paths jsonpath-plus reads.
 * Several results of one expression print space-separated, maps and lists as JSON, a missing field as nothing
 * (kubectl's default --allow-missing-template-keys).
 */
import { JSONPath } from 'jsonpath-plus'
import { UsageError } from '../../api/cli.js'

type Node = { type: 'text'; text: string } | { type: 'path'; path: string } | { type: 'range'; path: string; body: Node[] }

export interface JsonPathTemplate {
  readonly source: string
  readonly nodes: readonly Node[]
}

const OPEN: Record<string, string> = { '[': ']', '(': ')' }

/** The index just past the quoted string starting at `i` (`"..."` with backslash escapes, or `'...'`). */
function skipQuoted(s: string, i: number, what: string): number {
  const q = s[i]!
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\' && q === '"') j++
    else if (s[j] === q) return j + 1
  }
  throw new UsageError(`${what}: unterminated ${q} string in "${s}"`)
}

/** Refuses unbalanced brackets, parentheses and quotes: jsonpath-plus would read `.items[` as `.items`. */
function checkBalanced(expr: string, what: string): void {
  const stack: string[] = []
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!
    if (c === '"' || c === "'") {
      i = skipQuoted(expr, i, what) - 1
    } else if (c === '\\') i++
    else if (OPEN[c]) stack.push(OPEN[c])
    else if (c === ']' || c === ')') {
      if (stack.pop() !== c) throw new UsageError(`${what}: unexpected "${c}" in "${expr}"`)
    }
  }
  if (stack.length > 0) throw new UsageError(`${what}: missing "${stack.at(-1)}" in "${expr}"`)
}

/**
 * kubectl path -> jsonpath-plus path. `.a.b`, `a.b`, `@.a` and `$.a` all start at the current object (the
 * list or object printed, or the item of the enclosing range); a member with escaped dots becomes `['a.b']`.
 * @example toJsonPathPlus('.metadata.labels.app\\.kubernetes\\.io/name') === "$.metadata.labels['app.kubernetes.io/name']"
 */
export function toJsonPathPlus(expr: string, what = 'jsonpath'): string {
  const e = expr.trim()
  checkBalanced(e, what)
  let rest = e.startsWith('$') || e.startsWith('@') ? e.slice(1) : e
  if (rest !== '' && !rest.startsWith('.') && !rest.startsWith('[')) rest = `.${rest}`
  // `.member` parts written with `\.` inside: one bracketed name each
  let out = '$'
  for (let i = 0; i < rest.length;) {
    const c = rest[i]!
    if (c === '[') {
      let depth = 0
      let j = i
      for (; j < rest.length; j++) {
        const d = rest[j]!
        if (d === '"' || d === "'") j = skipQuoted(rest, j, what) - 1
        else if (d === '[') depth++
        else if (d === ']' && --depth === 0) break
      }
      out += rest.slice(i, j + 1)
      i = j + 1
    } else if (c === '.') {
      const dots = rest[i + 1] === '.' ? '..' : '.'
      let j = i + dots.length
      let member = ''
      while (j < rest.length && rest[j] !== '.' && rest[j] !== '[') {
        if (rest[j] === '\\' && j + 1 < rest.length) {
          member += rest[j + 1]
          j += 2
        } else member += rest[j++]
      }
      out += member.includes('.') ? `${dots === '..' ? '..' : ''}[${JSON.stringify(member).replace(/^"|"$/g, "'")}]` : `${dots}${member}`
      i = j
    } else throw new UsageError(`${what}: cannot read "${expr}" at "${rest.slice(i)}"`)
  }
  return out
}

/** The values `expr` (kubectl syntax) selects in `value`, in document order. */
export function evaluatePath(expr: string, value: unknown): unknown[] {
  return evaluate(toJsonPathPlus(expr), value)
}

function evaluate(path: string, value: unknown): unknown[] {
  if (path === '$') return [value]
  if (value === null || typeof value !== 'object') return []
  try {
    return JSONPath({ path, json: value as object, wrap: true, eval: 'safe' }) as unknown[]
  } catch (err) {
    throw new UsageError(`jsonpath: cannot evaluate "${path}": ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** One value as kubectl's jsonpath prints it: strings bare, everything else as JSON. */
export function printValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** `{"\n"}` / `{'x'}`: a literal. Double-quoted literals take JSON escapes (`\n`, `\t`, `\"`). */
function literal(inner: string, what: string): string | undefined {
  if (inner.startsWith('"') && inner.endsWith('"') && inner.length >= 2) {
    try {
      return JSON.parse(inner) as string
    } catch {
      throw new UsageError(`${what}: bad string literal ${inner}`)
    }
  }
  if (inner.startsWith("'") && inner.endsWith("'") && inner.length >= 2) return inner.slice(1, -1)
  return undefined
}

/**
 * Parses a kubectl jsonpath template; a template without braces that starts with `.`, `$` or `[` is one
 * expression (`-o jsonpath=.items[*].metadata.name`). Throws `UsageError` naming the problem.
 */
export function parseJsonPathTemplate(source: string, what = '-o jsonpath'): JsonPathTemplate {
  const text = !source.includes('{') && /^[.$[]/.test(source) ? `{${source}}` : source
  const root: Node[] = []
  const stack: Node[][] = [root]
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('{', i)
    if (open < 0) {
      stack.at(-1)!.push({ type: 'text', text: text.slice(i) })
      break
    }
    if (open > i) stack.at(-1)!.push({ type: 'text', text: text.slice(i, open) })
    let close = open + 1
    while (close < text.length && text[close] !== '}') close = text[close] === '"' || text[close] === "'" ? skipQuoted(text, close, what) : close + 1
    if (close >= text.length) throw new UsageError(`${what}: unclosed "{" in "${source}"`)
    const inner = text.slice(open + 1, close).trim()
    i = close + 1
    const lit = literal(inner, what)
    if (lit !== undefined) stack.at(-1)!.push({ type: 'text', text: lit })
    else if (inner === 'end') {
      if (stack.length === 1) throw new UsageError(`${what}: {end} without {range ...} in "${source}"`)
      stack.pop()
    } else if (/^range\s/.test(inner)) {
      const node: Node = { type: 'range', path: toJsonPathPlus(inner.slice(6), what), body: [] }
      stack.at(-1)!.push(node)
      stack.push(node.body)
    } else if (inner === '') throw new UsageError(`${what}: empty {} in "${source}"`)
    else stack.at(-1)!.push({ type: 'path', path: toJsonPathPlus(inner, what) })
  }
  if (stack.length > 1) throw new UsageError(`${what}: {range ...} without {end} in "${source}"`)
  return { source, nodes: root }
}

function renderNodes(nodes: readonly Node[], value: unknown): string {
  let out = ''
  for (const n of nodes) {
    if (n.type === 'text') out += n.text
    else if (n.type === 'path') out += evaluate(n.path, value).map(printValue).join(' ')
    else for (const item of evaluate(n.path, value)) out += renderNodes(n.body, item)
  }
  return out
}

/** The template applied to `value` (a List or one object). Pure. */
export function renderJsonPathTemplate(t: JsonPathTemplate, value: unknown): string {
  return renderNodes(t.nodes, value)
}
