import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import type { StoredObject } from '../../api/meta.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { readManifests, type ManifestDocument } from './manifests.js'
import { formatObjects } from './output.js'
import { reportError } from './report.js'
import { kindLabel } from './resolve.js'

interface ApplyItem {
  action: string
  source: 'input' | 'rendered' | 'pruned'
  object: StoredObject
}

export const applyCommand: CliCommand = {
  path: ['apply'],
  summary: 'create or update objects from files, directories or stdin (all-or-nothing)',
  usage: `Usage: dpuctl apply -f FILE|DIR|- [-f ...] [-n NS] [-o json|yaml] [--server URL] [--token-file F]

Applies every document (multi-document YAML or JSON, Lists included) in one transaction: if one object is
invalid, nothing is applied. Fleet DPUServiceInterface/DPUServiceChain objects are also rendered into the
appliance's own node-level objects. -n puts objects without a namespace in NS and refuses those in another.
Exit 0 ok, 1 server or validation error, 2 usage error; errors name the file and line of the object.`,
  async run(args, io) {
    const { values } = parseFlags(
      args,
      { ...CLIENT_OPTIONS, namespace: { type: 'string', short: 'n' }, filename: { type: 'string', short: 'f', multiple: true }, output: { type: 'string', short: 'o' } },
      0,
    )
    const files = values.filename ?? []
    if (files.length === 0) throw new UsageError('apply needs -f FILE|DIR|-')
    if (values.output !== undefined && values.output !== 'json' && values.output !== 'yaml') throw new UsageError(`-o must be json or yaml, got "${values.output}"`)
    let docs: ManifestDocument[] = []
    try {
      const client = ApplianceClient.fromFlags(values, io)
      docs = await readManifests(files, io, values.namespace)
      if (docs.length === 0) throw new UsageError('no objects found in the given files')
      const res = await client.request<{ items: ApplyItem[] }>('POST', '/apis/appliance/v1/apply', { apiVersion: 'v1', kind: 'List', items: docs.map((d) => d.value) })
      if (values.output) {
        io.stdout.write(formatObjects({ apiVersion: 'v1', kind: 'List', items: res.items.map((i) => i.object) }, values.output))
        return 0
      }
      for (const i of res.items) {
        const suffix = i.source === 'rendered' ? ' (rendered for this node)' : i.source === 'pruned' ? ' (pruned: no longer rendered)' : ''
        io.stdout.write(`${kindLabel(i.object)}/${i.object.metadata.name} ${i.action}${suffix}\n`)
      }
      return 0
    } catch (err) {
      return reportError(err, io, docs)
    }
  },
}
