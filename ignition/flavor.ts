/**
 * The DPUFlavor as the image builders use it: the shared schema (api/resources/dpu-flavor.ts) plus the checks
 * that only matter when values land in files and command lines: one kernel argument per entry, sysctl lines as
 * `key=value`, no newline where a newline would start a new setting.
 */
import { DPUFlavorSchema, type DPUFlavor } from '../api/resources/dpu-flavor.js'
import { parseDocuments } from '../api/resources/parse-documents.js'
import { toFieldIssues } from '../api/resources/issues.js'
import type { FieldIssue } from '../api/errors.js'
import { IgnitionInputError } from './errors.js'

export type { DPUFlavor }

const SYSCTL_LINE = /^\s*[A-Za-z0-9_.\-/*]+\s*=[^\n\r]*$/

/** Validates a decoded flavor; throws `ignition.input` with every field issue. */
export function parseFlavor(raw: unknown, source = 'flavor'): DPUFlavor {
  const result = DPUFlavorSchema.safeParse(raw, { reportInput: true })
  if (!result.success) throw new IgnitionInputError(`${source}: invalid DPUFlavor`, toFieldIssues(result.error), { source })
  const flavor = result.data
  const issues: FieldIssue[] = []
  flavor.spec.grub?.kernelParameters?.forEach((p, i) => {
    if (p.trim() === '' || /[\s]/.test(p.replace(/"[^"\n\r]*"/g, '""')))
      issues.push({ path: `spec.grub.kernelParameters[${i}]`, message: 'one kernel argument per entry (no blanks outside double quotes, no newlines)' })
  })
  flavor.spec.sysctl?.parameters?.forEach((p, i) => {
    if (!SYSCTL_LINE.test(p)) issues.push({ path: `spec.sysctl.parameters[${i}]`, message: 'expected one "key=value" line' })
  })
  flavor.spec.configFiles?.forEach((f, i) => {
    if (/[\n\r\0]/.test(f.path) || f.path.split('/').includes('..')) issues.push({ path: `spec.configFiles[${i}].path`, message: 'path must be absolute, without "..", newlines or NUL' })
  })
  if (issues.length) throw new IgnitionInputError(`${source}: DPUFlavor cannot be rendered`, issues, { source })
  return flavor
}

/** Parses a flavor manifest (YAML or JSON text holding exactly one DPUFlavor). */
export function parseFlavorText(text: string, source = 'flavor'): DPUFlavor {
  const docs = parseDocuments(text, source)
  if (docs.length !== 1) throw new IgnitionInputError(`${source}: expected one DPUFlavor document, found ${docs.length}`)
  return parseFlavor(docs[0], source)
}
