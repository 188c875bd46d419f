/** Reads `-f FILE|DIR|-` arguments into raw documents (validated by the server). */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseDocuments } from '../../api/resources/registry.js'
import { ApplianceError } from '../../api/errors.js'
import type { CliIO } from '../../api/cli.js'

const MANIFEST = /\.(ya?ml|json)$/i

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

function filesOf(path: string): string[] {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    throw new ApplianceError('config.invalid', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  if (!st.isDirectory()) return [path]
  return readdirSync(path)
    .filter((f) => MANIFEST.test(f))
    .sort()
    .map((f) => join(path, f))
    .filter((f) => statSync(f).isFile())
}

/** Every document of every `-f` argument, in order. Throws `api.decode` naming file, line and column. */
export async function readManifests(args: readonly string[], io: CliIO): Promise<unknown[]> {
  const docs: unknown[] = []
  for (const arg of args) {
    if (arg === '-') {
      docs.push(...parseDocuments(await readStdin(io), '<stdin>'))
      continue
    }
    for (const file of filesOf(resolve(io.cwd, arg))) docs.push(...parseDocuments(readFileSync(file, 'utf8'), file))
  }
  return docs
}
