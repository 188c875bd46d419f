/**
 * The README's shell blocks, as a test runs them: every fenced ```sh block of one `## ` section, in order, split
 * into command lines (blank and comment-only lines dropped; a trailing `# comment` stays, the shell ignores it).
 * The tour test runs exactly these lines, so the README and the product cannot drift apart.
 */

export interface ShellBlock {
  /** 1-based line of the opening fence in the markdown. */
  line: number
  commands: string[]
}

/** The ```sh blocks between `## <heading>` and the next `## ` heading. Throws if the section is missing. */
export function shellBlocksOf(markdown: string, heading: string): ShellBlock[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`)
  if (start < 0) throw new Error(`README has no "## ${heading}" section`)
  const blocks: ShellBlock[] = []
  let current: ShellBlock | undefined
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!
    if (current === undefined && /^## /.test(l)) break
    if (current === undefined) {
      if (/^```sh\s*$/.test(l)) current = { line: i + 1, commands: [] }
      continue
    }
    if (/^```\s*$/.test(l)) {
      blocks.push(current)
      current = undefined
      continue
    }
    if (l.trim() === '' || /^\s*#/.test(l)) continue
    if (/\\\s*$/.test(l)) throw new Error(`README line ${i + 1}: a tour command must fit on one line (no backslash continuation)`)
    current.commands.push(l.trim())
  }
  if (current !== undefined) throw new Error(`README line ${current.line}: unterminated code block`)
  return blocks
}
