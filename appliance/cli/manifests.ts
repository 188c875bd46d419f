/** Reads `-f FILE|DIR|-` arguments into raw documents (validated by the server), each with its file and line. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseLocatedDocuments } from '../../api/resources/parse-documents.js'
import { ApplianceError } from '../../api/errors.js'
import { isRecord } from '../../api/is-record.js'
import type { CliIO } from '../../api/cli.js'

const MANIFEST = /\.(ya?ml|json)$/i

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** The manifest files of one `-f` argument, each with the name to show (as the user wrote the argument). */
function filesOf(arg: string, cwd: string): Array<{ path: string; shown: string }> {
  const path = resolve(cwd, arg)
  let st
  try {
    st = statSync(path)
  } catch (err) {
    throw new ApplianceError('config.invalid', `cannot read ${arg}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
  if (!st.isDirectory()) return [{ path, shown: arg }]
  return readdirSync(path)
    .filter((f) => MANIFEST.test(f))
    .sort()
    .map((f) => ({ path: join(path, f), shown: join(arg, f) }))
    .filter((f) => statSync(f.path).isFile())
}

/** One document of a manifest and where it came from: `source:line` names it in errors. */
export interface ManifestDocument {
  value: unknown
  source: string
  line: number
}

/**
 * kubectl's `-n` with `-f`: a document without metadata.namespace gets `namespace`; one that names another is
 * refused (`api.validation`, naming its file and line), as kubectl refuses it.
 */
function inNamespace(doc: ManifestDocument, namespace: string): ManifestDocument {
  if (!isRecord(doc.value)) return doc
  const metadata = isRecord(doc.value.metadata) ? doc.value.metadata : {}
  if (metadata.namespace === undefined) return { ...doc, value: { ...doc.value, metadata: { ...metadata, namespace } } }
  if (metadata.namespace === namespace) return doc
  const message = `${doc.source}:${doc.line}: the namespace of the object (${String(metadata.namespace)}) does not match -n ${namespace}`
  throw new ApplianceError('api.validation', message, { context: { source: doc.source, line: doc.line } })
}

/**
 * Every document of every `-f` argument, in order; with `namespace` (-n), each in that namespace.
 * Throws `api.decode` naming file, line and column.
 */
export async function readManifests(args: readonly string[], io: CliIO, namespace?: string): Promise<ManifestDocument[]> {
  const docs: ManifestDocument[] = []
  const add = (text: string, source: string) => {
    for (const d of parseLocatedDocuments(text, source)) {
      const doc = { value: d.value, source, line: d.line }
      docs.push(namespace === undefined ? doc : inNamespace(doc, namespace))
    }
  }
  for (const arg of args) {
    if (arg === '-') add(await readStdin(io), '<stdin>')
    else for (const file of filesOf(arg, io.cwd)) add(readFileSync(file.path, 'utf8'), file.shown)
  }
  return docs
}
