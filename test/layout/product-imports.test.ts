/**
 * Product code never imports from test/: `tsconfig.build.json` compiles api/, appliance/, federation/, image/,
 * ignition/ and bin/ only, so an import into test/ from any of them breaks the installed `dpuctl` (and would drag
 * test harnesses into the package). Tests (`*.test.ts`) and bench/ may import test/support freely.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'test', 'bench', 'testdata'])
const SOURCE = /\.(ts|mts|js|mjs)$/
// Static and dynamic imports and re-exports: `from '…'`, `import '…'`, `import('…')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\1/g

function productFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) out.push(...productFiles(join(dir, entry.name)))
    } else if (SOURCE.test(entry.name) && !/\.test\.[mc]?[jt]s$/.test(entry.name)) {
      out.push(join(dir, entry.name))
    }
  }
  return out
}

/** Each relative import of `file` that resolves into test/, as `path: specifier`. */
function importsIntoTest(file: string, text: string, root: string): string[] {
  const found: string[] = []
  for (const [, , spec] of text.matchAll(SPECIFIER)) {
    if (!spec?.startsWith('.')) continue
    const target = relative(root, resolve(dirname(file), spec))
    if (target === 'test' || target.startsWith('test/')) found.push(`${relative(root, file)}: ${spec}`)
  }
  return found
}

describe('product code and test/', () => {
  it('the scan finds an import into test/ (static, dynamic and re-export)', () => {
    const file = join(ROOT, 'bin', 'x.ts')
    const text = ["import { a } from '../test/support/a.js'", "export { b } from '../test/support/b.js'", "const c = await import('../test/support/c.js')", "import { d } from './demo/fleet.js'"].join(
      '\n',
    )
    expect(importsIntoTest(file, text, ROOT)).toEqual(['bin/x.ts: ../test/support/a.js', 'bin/x.ts: ../test/support/b.js', 'bin/x.ts: ../test/support/c.js'])
  })

  it('no file outside test/ and bench/ (other than tests) imports from test/', () => {
    const files = productFiles(ROOT)
    expect(files.some((f) => f.endsWith(join('bin', 'demo', 'fleet.ts')))).toBe(true)
    expect(files.flatMap((f) => importsIntoTest(f, readFileSync(f, 'utf8'), ROOT))).toEqual([])
  })
})
