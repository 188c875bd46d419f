/**
 * `dpuctl explain KIND[.field.path] [--recursive]`: a kind's fields from the schemas this dpuctl validates with
 * (no server needed), in kubectl explain's layout.
 */
import { UsageError, type CliCommand } from '../../api/cli.js'
import { parseFlags } from '../../api/cli-flags.js'
import { jsonSchema } from '../../api/openapi.js'
import { findField, renderExplain, type JsonSchema } from './explain-schema.js'
import { reportError } from './report.js'
import { resolveKind } from './resolve.js'

export const explainCommand: CliCommand = {
  path: ['explain'],
  summary: "describe a kind's fields and their types (no server needed)",
  usage: `Usage: dpuctl explain KIND[.FIELD[.FIELD...]] [--recursive] [--api-version GROUP/VERSION]

KIND is any name get takes (dsc, servicechains, ...). Lists are walked through, e.g.
  dpuctl explain dsc.spec.template.spec.template.spec.switches.ports
  --recursive     list every nested field, indented, without descriptions
  --api-version   check that KIND is served at GROUP/VERSION (each kind has one)`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { recursive: { type: 'boolean' }, 'api-version': { type: 'string' } }, 1)
    const [target] = positionals
    if (target === undefined) throw new UsageError('explain needs KIND or KIND.FIELD.PATH')
    const [kindWord, ...path] = target.split('.')
    if (kindWord === '' || path.some((p) => p === '')) throw new UsageError(`"${target}" has an empty name between dots`)
    try {
      const kind = resolveKind(kindWord!)
      if (values['api-version'] !== undefined && values['api-version'] !== kind.apiVersion) {
        throw new UsageError(`${kind.kind} is served as ${kind.apiVersion}, not ${values['api-version']}`)
      }
      const root = jsonSchema(kind.schema) as JsonSchema
      io.stdout.write(renderExplain(kind, root, findField(root, kind.kind, path), { recursive: values.recursive === true }))
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
